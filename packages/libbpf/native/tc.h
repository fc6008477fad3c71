// tc programs: clsact hook + bpf_tc_attach on an interface (or a TCX link, tcx.h), optionally inside a network
// namespace; detach removes exactly our filter. Filters are the one resource the kernel would
// keep after the process is gone, so every attached one is tracked for an atexit detach.
#pragma once
#include <napi.h>

#include <bpf/libbpf.h>

#include <stdint.h>

#include <memory>
#include <string>

namespace wirescope {

struct TcLinkRes {
  bpf_tc_hook hook{};
  bpf_tc_opts opts{};
  uint32_t prog_id = 0;  // what we attached: detach only if the filter still runs it
  int netns_fd = -1;
  bool attached = false;
  // A TCX link (tcx.h) instead of a cls_bpf filter: its fd, its pin (empty: none), its id, and
  // whether attach took over a link already pinned there.
  bool tcx = false;
  int link_fd = -1;
  std::string pin;
  uint32_t link_id = 0;
  bool taken_over = false;
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

// The TcLinkHandle class (made only by AttachTcFilter and AttachTcxLink).
Napi::Function DefineTcLinkHandle(Napi::Env env);
// A TcLinkHandle owning res.
Napi::Object NewTcLinkHandle(Napi::Env env, const std::shared_ptr<TcLinkRes>& res);
// attachTc's arguments 1..7 (ifindex, ifname, ingress, priority, handle, netnsPath, replace)
// for a loaded program of an open object: a TcLinkHandle.
Napi::Value AttachTcFilter(const Napi::CallbackInfo& info, bpf_program* prog);
// ifNameToIndex(name): if_nametoindex in the current namespace (0: no such interface).
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info);

}  // namespace wirescope
