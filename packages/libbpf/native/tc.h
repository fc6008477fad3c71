// tc filters: clsact hook + bpf_tc_attach on an interface, optionally inside a network
// namespace; detach removes exactly our filter. Filters are the one resource the kernel would
// keep after the process is gone, so every attached one is tracked for an atexit detach.
#pragma once
#include <napi.h>

#include <bpf/libbpf.h>

#include <stdint.h>

#include <memory>

namespace wirescope {

struct TcLinkRes {
  bpf_tc_hook hook{};
  bpf_tc_opts opts{};
  uint32_t prog_id = 0;  // what we attached: detach only if the filter still runs it
  int netns_fd = -1;
  bool attached = false;
  // Removes the filter if it still runs prog_id; 0 also when the interface is gone.
  int Detach();
  // 1 while the hook still runs prog_id at our handle and priority; 0 when the filter is gone or
  // is someone else's (deleted by hand, replaced, the clsact qdisc removed); -ENODEV when the
  // interface is gone; another -errno when the kernel could not be asked.
  int Present();
  void Free() { Detach(); }
};

// Adds (attached) or removes a filter from the process-wide set detached at exit.
void TrackTcLink(const std::shared_ptr<TcLinkRes>& link, bool attached);
// The atexit handler: process.exit() on the main thread skips env cleanup hooks.
void DetachAllTcAtExit();

// The TcLinkHandle class (made only by AttachTcFilter).
Napi::Function DefineTcLinkHandle(Napi::Env env);
// attachTc's arguments 1..7 (ifindex, ifname, ingress, priority, handle, netnsPath, replace)
// for a loaded program of an open object: a TcLinkHandle.
Napi::Value AttachTcFilter(const Napi::CallbackInfo& info, bpf_program* prog);
// ifNameToIndex(name): if_nametoindex in the current namespace (0: no such interface).
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info);

}  // namespace wirescope
