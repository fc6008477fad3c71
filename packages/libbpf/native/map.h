// fd-level map calls (work for maps of an object and for pinned maps alike): lookup, update,
// delete, iterate, info, pin/open pinned, close, and the possible-CPU count per-CPU values need.
#pragma once
#include <napi.h>

namespace wirescope {

Napi::Value MapLookup(const Napi::CallbackInfo& info);
Napi::Value MapUpdate(const Napi::CallbackInfo& info);
Napi::Value MapDelete(const Napi::CallbackInfo& info);
Napi::Value MapNextKey(const Napi::CallbackInfo& info);
Napi::Value ObjPin(const Napi::CallbackInfo& info);
Napi::Value ObjGet(const Napi::CallbackInfo& info);
Napi::Value MapInfo(const Napi::CallbackInfo& info);
Napi::Value CloseFd(const Napi::CallbackInfo& info);
Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info);

}  // namespace wirescope
