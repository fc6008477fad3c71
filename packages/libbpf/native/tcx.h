// TCX links (kernel 6.6+): a program on an interface's tc ingress/egress hook as a bpf_link
// instead of a cls_bpf filter under a clsact qdisc, so the kernel runs it without the qdisc's
// classifier layers (tc_run, tcf_classify, cls_bpf_classify). A link lives as long as its fd or
// its pin in bpffs; a pinned one is taken over by bpf_link_update, so the hook never goes empty.
#pragma once
#include <napi.h>

#include <bpf/libbpf.h>

#include <stdint.h>

namespace wirescope {

struct TcLinkRes;

// enum bpf_attach_type / bpf_link_type values missing from the 6.1 uapi headers Debian ships.
constexpr int kTcxIngress = 46;
constexpr int kTcxEgress = 47;
constexpr uint32_t kLinkTypeTcx = 11;

// Removes the link from its hook (it also stops being pinned) if it still runs res.prog_id; 0 also
// when the interface is gone.
int DetachTcx(TcLinkRes& res);
// As TcLinkRes::Present, for a TCX link.
int TcxPresent(TcLinkRes& res);

// attachTcx's arguments 1..7 (ifindex, ifname, ingress, netnsPath, pinPath, filterPriority,
// filterHandle) for a loaded program: a TcLinkHandle. With a pin path, a link already pinned there
// on the same hook is updated to the program (an agent taking over from its predecessor) and
// anything else pinned there is removed first. A non-zero filter priority and handle name a
// cls_bpf filter of an older attach that is deleted once the link runs.
Napi::Value AttachTcxLink(const Napi::CallbackInfo& info, bpf_program* prog);
// tcxPrograms(ifindex, ifname, ingress, netnsPath): the ids of the programs the kernel runs as
// TCX links on that hook, in order (BPF_PROG_QUERY).
Napi::Value TcxPrograms(const Napi::CallbackInfo& info);
// detachPinnedTcx(path): detaches and unpins a TCX link pinned at path; false when nothing is
// pinned there.
Napi::Value DetachPinnedTcx(const Napi::CallbackInfo& info);

}  // namespace wirescope
