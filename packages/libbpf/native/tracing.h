// Tracing links: programs attached by bpf_program__attach (fentry, fexit, tp_btf, raw_tp,
// tracepoint, ... as the section name says), detached by LinkHandle.detach().
#pragma once
#include <napi.h>

#include <bpf/libbpf.h>

namespace wirescope {

struct LinkRes {
  bpf_link* link = nullptr;
  void Free() {
    if (link) bpf_link__destroy(link);
    link = nullptr;
  }
};

// The LinkHandle class (made only by AttachProgram).
Napi::Function DefineLinkHandle(Napi::Env env);
// Attaches a loaded program of an open object: a LinkHandle, registered for teardown.
Napi::Value AttachProgram(Napi::Env env, bpf_program* prog);

}  // namespace wirescope
