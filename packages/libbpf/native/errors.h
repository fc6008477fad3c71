// libbpf's messages and the addon's errors: every failure is thrown as the JS BpfError made
// by the factory registered with setErrorFactory, carrying libbpf's last messages (e.g. the
// verifier log) as `log`.
#pragma once
#include <napi.h>

#include <string>

namespace wirescope {

// Routes libbpf's print callback into the log kept for errors.
void CaptureLibbpfLog();
// Drops the kept messages: called before each libbpf call whose failure should carry its own.
void ClearLog();

std::string ErrnoName(int err);
Napi::Error MakeError(Napi::Env env, const std::string& code, int err, const std::string& step,
                      const std::string& message);
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& step, int err,
                             const std::string& what);
[[noreturn]] void ThrowCode(Napi::Env env, const std::string& code, const std::string& step,
                            const std::string& message);

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info);
Napi::Value SetLogEcho(const Napi::CallbackInfo& info);

}  // namespace wirescope
