// libbpf's messages (kept for errors) and the typed errors thrown to JS.
#include "errors.h"

#include <bpf/libbpf.h>

#include <stdarg.h>
#include <string.h>

#include <cstdio>
#include <deque>
#include <mutex>

#include "state.h"

namespace wirescope {
namespace {

// ---------------------------------------------------------------------------------------
// libbpf's own messages: kept (last lines only) so that errors can carry the verifier log.

std::mutex g_log_mutex;
std::deque<std::string> g_log_lines;
size_t g_log_bytes = 0;
constexpr size_t kLogMaxBytes = 64 * 1024;
bool g_log_echo = false;

int CaptureLibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && !g_log_echo) return 0;
  char line[4096];
  int n = vsnprintf(line, sizeof(line), format, args);
  if (n < 0) return 0;
  std::string text(line);
  if (g_log_echo) fputs(text.c_str(), stderr);
  if (level == LIBBPF_DEBUG) return n;
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_log_bytes += text.size();
  g_log_lines.push_back(std::move(text));
  while (g_log_bytes > kLogMaxBytes && !g_log_lines.empty()) {
    g_log_bytes -= g_log_lines.front().size();
    g_log_lines.pop_front();
  }
  return n;
}

std::string TakeLog() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::string all;
  for (auto& l : g_log_lines) all += l;
  g_log_lines.clear();
  g_log_bytes = 0;
  return all;
}

}  // namespace

void CaptureLibbpfLog() { libbpf_set_print(CaptureLibbpfPrint); }

void ClearLog() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_log_lines.clear();
  g_log_bytes = 0;
}

Napi::Value SetLogEcho(const Napi::CallbackInfo& info) {
  g_log_echo = info.Length() > 0 && info[0].ToBoolean().Value();
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------
// Errors: built by the JS factory registered with setErrorFactory (a BpfError), so native
// and TypeScript failures share one class.

std::string ErrnoName(int err) {
  if (err <= 0) return "EUNKNOWN";
  const char* name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

Napi::Error MakeError(Napi::Env env, const std::string& code, int err, const std::string& step,
                      const std::string& message) {
  std::string log = TakeLog();
  AddonState* state = State(env);
  if (state && !state->error_factory.IsEmpty()) {
    Napi::Value value = state->error_factory.Call(
        {Napi::String::New(env, code), Napi::Number::New(env, err), Napi::String::New(env, step),
         Napi::String::New(env, message), Napi::String::New(env, log)});
    return Napi::Error(env, value);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", code);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("step", step);
  e.Set("log", log);
  return e;
}

[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& step, int err,
                             const std::string& what) {
  if (err < 0) err = -err;
  std::string message = what + ": " + strerror(err);
  throw MakeError(env, ErrnoName(err), err, step, message);
}

[[noreturn]] void ThrowCode(Napi::Env env, const std::string& code, const std::string& step,
                            const std::string& message) {
  throw MakeError(env, code, 0, step, message);
}

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", "error factory must be a function");
  State(info.Env())->error_factory = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace wirescope
