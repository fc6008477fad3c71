// Argument helpers: each checks the type it reads, so that a bad call throws (ERR_INVALID_ARG)
// instead of crashing the process. Inline: every fd call goes through them.
#pragma once
#include <napi.h>

#include <stdint.h>

#include <string>

#include "errors.h"

namespace wirescope {

inline std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// An optional string argument: "" when absent or not a string (undefined from JS).
inline std::string ArgOptString(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "";
}

inline bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsBoolean())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", std::string(what) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

inline int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t min,
                      int64_t max) {
  if (info.Length() <= i || !info[i].IsNumber())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", std::string(what) + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d)
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args",
              std::string(what) + " must be an integer in " + std::to_string(min) + ".." +
                  std::to_string(max));
  return (int64_t)d;
}

inline Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i,
                                       const char* what) {
  if (info.Length() <= i || !info[i].IsBuffer())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", std::string(what) + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

}  // namespace wirescope
