// TCX links: create (or take over a pinned one), detach, query the hook.
#include "tcx.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "netns.h"
#include "state.h"
#include "tc.h"

namespace wirescope {
namespace {

// The tcx member of bpf_link_info's union (ifindex, attach_type): absent from the 6.1 headers,
// at the union's start as every member is.
struct TcxLinkInfo {
  uint32_t type = 0;
  uint32_t prog_id = 0;
  uint32_t ifindex = 0;
  uint32_t attach_type = 0;
};

int ReadTcxInfo(int fd, TcxLinkInfo* out) {
  bpf_link_info info;
  memset(&info, 0, sizeof(info));
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return -errno;
  uint32_t tcx[2];
  memcpy(tcx, &info.raw_tracepoint, sizeof(tcx));
  out->type = info.type;
  out->prog_id = info.prog_id;
  out->ifindex = tcx[0];
  out->attach_type = tcx[1];
  return 0;
}

uint32_t LinkId(int fd) {
  bpf_link_info info;
  memset(&info, 0, sizeof(info));
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// The interface's index inside the namespace fn runs in (ifname empty: ifindex as given).
int ResolveIfindex(int64_t ifindex, const std::string& ifname, std::string* what) {
  if (ifname.empty()) return (int)ifindex;
  int index = (int)if_nametoindex(ifname.c_str());
  if (index == 0) {
    *what = "no interface named " + ifname;
    return -ENODEV;
  }
  return index;
}

}  // namespace

int DetachTcx(TcLinkRes& res) {
  if (!res.attached) return 0;
  res.attached = false;
  int err = 0;
  TcxLinkInfo now;
  // a pinned link taken over by another process (updated to its program) is no longer ours
  if (ReadTcxInfo(res.link_fd, &now) == 0 && now.prog_id == res.prog_id && now.ifindex != 0) {
    if (bpf_link_detach(res.link_fd) != 0) err = -errno;
    if (!res.pin.empty()) unlink(res.pin.c_str());
  }
  close(res.link_fd);
  res.link_fd = -1;
  if (res.netns_fd >= 0) close(res.netns_fd);
  res.netns_fd = -1;
  // detached already: the interface went, or someone detached the link
  if (err == -ENOLINK || err == -ENODEV || err == -ENOENT || err == -EINVAL) return 0;
  return err;
}

int TcxPresent(TcLinkRes& res) {
  if (!res.attached) return 0;
  TcxLinkInfo now;
  int err = ReadTcxInfo(res.link_fd, &now);
  if (err) return err;
  if (now.ifindex != 0) return now.prog_id == res.prog_id ? 1 : 0;
  // a link the kernel let go of: its interface went away, or someone detached it
  uint32_t ifindex = res.hook.ifindex;
  int gone = RunInNetns(res.netns_fd, [&] {
    char name[IF_NAMESIZE];
    return if_indextoname(ifindex, name) ? 0 : -ENODEV;
  });
  return gone == -ENODEV ? -ENODEV : 0;
}

Napi::Value AttachTcxLink(const Napi::CallbackInfo& info, bpf_program* prog) {
  Napi::Env env = info.Env();
  int prog_fd = bpf_program__fd(prog);
  if (prog_fd < 0) ThrowCode(env, "ERR_NOT_LOADED", "attach-tc", "program was not loaded (autoload off)");
  int64_t ifindex = ArgInt(info, 1, "ifindex", 0, INT32_MAX);
  std::string ifname = ArgOptString(info, 2);
  bool ingress = ArgBool(info, 3, "ingress");
  std::string netns = ArgOptString(info, 4);
  std::string pin = ArgOptString(info, 5);
  int64_t filter_priority = ArgInt(info, 6, "filterPriority", 0, 0xffff);
  int64_t filter_handle = ArgInt(info, 7, "filterHandle", 0, UINT32_MAX);
  uint32_t attach_type = ingress ? kTcxIngress : kTcxEgress;

  int netns_fd = OpenNetnsOrThrow(env, netns, "attach-tc");
  auto res = std::make_shared<TcLinkRes>();
  res->netns_fd = netns_fd;
  res->hook.sz = sizeof(res->hook);
  res->hook.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  res->pin = pin;
  res->tcx = true;
  std::string what;
  int link_fd = -1;
  bool taken_over = false;
  ClearLog();
  int err = RunInNetns(netns_fd, [&]() -> int {
    int index = ResolveIfindex(ifindex, ifname, &what);
    if (index < 0) return index;
    res->hook.ifindex = index;
    if (!pin.empty()) {
      int pinned = bpf_obj_get(pin.c_str());
      if (pinned >= 0) {
        TcxLinkInfo was;
        bool same_hook = ReadTcxInfo(pinned, &was) == 0 && was.type == kLinkTypeTcx &&
                         was.ifindex == (uint32_t)index && was.attach_type == attach_type;
        if (same_hook && bpf_link_update(pinned, prog_fd, nullptr) == 0) {
          link_fd = pinned;
          taken_over = true;
          return 0;
        }
        // pinned for another interface of that name, or a link whose interface went: not reusable
        if (was.type == kLinkTypeTcx && was.ifindex != 0) bpf_link_detach(pinned);
        close(pinned);
      }
      unlink(pin.c_str());
    }
    int fd = bpf_link_create(prog_fd, index, (enum bpf_attach_type)attach_type, nullptr);
    if (fd < 0) {
      what = "cannot create TCX link on ifindex " + std::to_string(index) +
             (fd == -EINVAL ? " (the kernel may predate TCX, Linux 6.6)" : "");
      return fd;
    }
    if (!pin.empty() && bpf_obj_pin(fd, pin.c_str()) != 0) {
      int pin_err = -errno;
      bpf_link_detach(fd);
      close(fd);
      what = "cannot pin TCX link at " + pin;
      return pin_err;
    }
    link_fd = fd;
    return 0;
  });
  if (err) {
    if (netns_fd >= 0) close(netns_fd);
    if (what.empty()) what = "cannot enter network namespace " + netns;
    ThrowErrno(env, "attach-tc", err, what);
  }
  TcxLinkInfo now;
  ReadTcxInfo(link_fd, &now);
  res->link_fd = link_fd;
  res->prog_id = now.prog_id;
  res->link_id = LinkId(link_fd);
  res->taken_over = taken_over;
  res->attached = true;
  if (filter_priority != 0 && filter_handle != 0) {
    // the same program as a cls_bpf filter, left by an agent that attached that way
    RunInNetns(netns_fd, [&] {
      bpf_tc_hook hook = res->hook;
      bpf_tc_opts old{};
      old.sz = sizeof(old);
      old.priority = (uint32_t)filter_priority;
      old.handle = (uint32_t)filter_handle;
      return bpf_tc_detach(&hook, &old);
    });
  }
  State(env)->tc_links.insert(res);
  TrackTcLink(res, true);
  return NewTcLinkHandle(env, res);
}

Napi::Value TcxPrograms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t ifindex = ArgInt(info, 0, "ifindex", 0, INT32_MAX);
  std::string ifname = ArgOptString(info, 1);
  bool ingress = ArgBool(info, 2, "ingress");
  std::string netns = ArgOptString(info, 3);
  int netns_fd = OpenNetnsOrThrow(env, netns, "query-tc");
  std::vector<uint32_t> ids(64);
  std::string what;
  ClearLog();
  int err = RunInNetns(netns_fd, [&]() -> int {
    int index = ResolveIfindex(ifindex, ifname, &what);
    if (index < 0) return index;
    uint32_t count = (uint32_t)ids.size();
    uint32_t flags = 0;
    int rc = bpf_prog_query(index, (enum bpf_attach_type)(ingress ? kTcxIngress : kTcxEgress), 0, &flags,
                            ids.data(), &count);
    if (rc) {
      what = "cannot query the TCX programs of ifindex " + std::to_string(index);
      return -errno;
    }
    ids.resize(count);
    return 0;
  });
  if (netns_fd >= 0) close(netns_fd);
  if (err) ThrowErrno(env, "query-tc", err, what.empty() ? "cannot enter network namespace " + netns : what);
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) out.Set((uint32_t)i, ids[i]);
  return out;
}

Napi::Value DetachPinnedTcx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    if (fd == -ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, "detach", -fd, "cannot open pinned link " + path);
  }
  TcxLinkInfo was;
  int err = ReadTcxInfo(fd, &was);
  if (err == 0 && was.type != kLinkTypeTcx) {
    close(fd);
    ThrowCode(env, "ERR_INVALID_ARG", "detach", path + " is not a TCX link");
  }
  if (err == 0 && was.ifindex != 0 && bpf_link_detach(fd) != 0) err = -errno;
  close(fd);
  if (err) ThrowErrno(env, "detach", err, "cannot detach pinned link " + path);
  unlink(path.c_str());
  return Napi::Boolean::New(env, true);
}

}  // namespace wirescope
