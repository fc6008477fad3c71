// BPF objects: open, set up before load (globals, map sizes, autoload, shared maps), load,
// list programs/maps/globals, hand out fds, close. Attaching is tracing.h's and tc.h's.
#pragma once
#include <napi.h>

#include <bpf/libbpf.h>

namespace wirescope {

struct ObjectRes {
  bpf_object* obj = nullptr;
  bool loaded = false;
  void Free() {
    if (obj) bpf_object__close(obj);
    obj = nullptr;
  }
};

// The ObjectHandle class: new ObjectHandle(path) opens the object.
Napi::Function DefineObjectHandle(Napi::Env env);

}  // namespace wirescope
