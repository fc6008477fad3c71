// tc filters: attach, detach by handle/priority (only while still ours), atexit detach.
#include "tc.h"

#include <errno.h>
#include <net/if.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <string>

#include "args.h"
#include "errors.h"
#include "netns.h"
#include "state.h"
#include "tcx.h"

namespace wirescope {

int TcLinkRes::Detach() {
  if (tcx) return DetachTcx(*this);
  if (!attached) return 0;
  attached = false;
  bpf_tc_hook hook_copy = hook;
  bpf_tc_opts detach_opts{};
  detach_opts.sz = sizeof(detach_opts);
  detach_opts.handle = opts.handle;
  detach_opts.priority = opts.priority;
  uint32_t ours = prog_id;
  int err = RunInNetns(netns_fd, [&] {
    // a filter replaced by someone else (same priority and handle) is no longer ours
    bpf_tc_opts query{};
    query.sz = sizeof(query);
    query.handle = detach_opts.handle;
    query.priority = detach_opts.priority;
    int rc = bpf_tc_query(&hook_copy, &query);
    if (rc) return rc;
    if (query.prog_id != ours) return -ENOENT;
    return bpf_tc_detach(&hook_copy, &detach_opts);
  });
  if (netns_fd >= 0) close(netns_fd);
  netns_fd = -1;
  // the interface (or its namespace) is gone, and with it the filter
  if (err == -ENODEV || err == -ENOENT || err == -EINVAL) return 0;
  return err;
}

int TcLinkRes::Present() {
  if (tcx) return TcxPresent(*this);
  if (!attached) return 0;
  bpf_tc_hook hook_copy = hook;
  bpf_tc_opts query{};
  query.sz = sizeof(query);
  query.handle = opts.handle;
  query.priority = opts.priority;
  int err = RunInNetns(netns_fd, [&] { return bpf_tc_query(&hook_copy, &query); });
  if (err == -ENOENT || err == -EINVAL) return 0;  // no such filter, or no clsact qdisc
  if (err) return err;
  return query.prog_id == prog_id ? 1 : 0;
}

namespace {

// Every attached tc filter of the process, across envs (workers). process.exit() on the main
// thread skips env cleanup hooks, so an atexit handler detaches what is still attached:
// filters are the one resource the kernel would otherwise keep after the process is gone.
std::mutex g_tc_mutex;
auto* g_tc_attached = new std::set<std::shared_ptr<TcLinkRes>>();  // never freed: used at exit

}  // namespace

void TrackTcLink(const std::shared_ptr<TcLinkRes>& link, bool attached) {
  std::lock_guard<std::mutex> lock(g_tc_mutex);
  if (attached)
    g_tc_attached->insert(link);
  else
    g_tc_attached->erase(link);
}

void DetachAllTcAtExit() {
  std::lock_guard<std::mutex> lock(g_tc_mutex);
  for (auto& link : *g_tc_attached) link->Detach();
  g_tc_attached->clear();
}

namespace {

class TcLinkHandle : public Napi::ObjectWrap<TcLinkHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "TcLinkHandle", {InstanceMethod("detach", &TcLinkHandle::Detach),
                                             InstanceMethod("info", &TcLinkHandle::Info),
                                             InstanceMethod("state", &TcLinkHandle::Present)});
  }
  explicit TcLinkHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TcLinkHandle>(info) {}
  // No detach on GC: a tc filter outlives its handle until detach() or process exit.
  std::shared_ptr<TcLinkRes> res_;

 private:
  Napi::Value Detach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (res_ && res_->attached) {
      ClearLog();
      int err = res_->Detach();
      State(env)->tc_links.erase(res_);
      TrackTcLink(res_, false);
      if (err) ThrowErrno(env, "detach", err, "cannot remove tc filter");
    }
    return env.Undefined();
  }
  Napi::Value Present(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!res_ || !res_->attached) return Napi::String::New(env, "detached");
    ClearLog();
    int rc = res_->Present();
    if (rc == -ENODEV) return Napi::String::New(env, "no-interface");
    if (rc < 0) ThrowErrno(env, "query-tc", rc, "cannot query tc filter");
    return Napi::String::New(env, rc == 1 ? "present" : "missing");
  }
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("ifindex", res_->hook.ifindex);
    o.Set("handle", res_->opts.handle);
    o.Set("priority", res_->opts.priority);
    o.Set("attached", res_->attached);
    o.Set("kind", res_->tcx ? "tcx" : "filter");
    o.Set("linkId", res_->link_id);
    o.Set("takenOver", res_->taken_over);
    o.Set("programId", res_->prog_id);
    return o;
  }
};

}  // namespace

Napi::Function DefineTcLinkHandle(Napi::Env env) { return TcLinkHandle::Init(env); }

Napi::Object NewTcLinkHandle(Napi::Env env, const std::shared_ptr<TcLinkRes>& res) {
  Napi::Object h = State(env)->tc_link_ctor.New({});
  TcLinkHandle::Unwrap(h)->res_ = res;
  return h;
}

Napi::Value AttachTcFilter(const Napi::CallbackInfo& info, bpf_program* prog) {
  Napi::Env env = info.Env();
  int prog_fd = bpf_program__fd(prog);
  if (prog_fd < 0) ThrowCode(env, "ERR_NOT_LOADED", "attach-tc", "program was not loaded (autoload off)");
  int64_t ifindex = ArgInt(info, 1, "ifindex", 0, INT32_MAX);
  std::string ifname = ArgOptString(info, 2);
  bool ingress = ArgBool(info, 3, "ingress");
  int64_t priority = ArgInt(info, 4, "priority", 0, 0xffff);
  int64_t handle = ArgInt(info, 5, "handle", 0, UINT32_MAX);
  std::string netns = ArgOptString(info, 6);
  bool replace = info.Length() > 7 && info[7].ToBoolean().Value();

  int netns_fd = OpenNetnsOrThrow(env, netns, "attach-tc");
  auto res = std::make_shared<TcLinkRes>();
  res->netns_fd = netns_fd;
  res->hook.sz = sizeof(res->hook);
  res->hook.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  res->opts.sz = sizeof(res->opts);
  res->opts.prog_fd = prog_fd;
  res->opts.priority = (uint32_t)priority;
  res->opts.handle = (uint32_t)handle;
  res->opts.flags = replace ? BPF_TC_F_REPLACE : 0;
  std::string what;
  ClearLog();
  int err = RunInNetns(netns_fd, [&]() -> int {
    int index = (int)ifindex;
    if (!ifname.empty()) {
      index = (int)if_nametoindex(ifname.c_str());
      if (index == 0) {
        what = "no interface named " + ifname;
        return -ENODEV;
      }
    }
    res->hook.ifindex = index;
    int rc = bpf_tc_hook_create(&res->hook);  // adds clsact when missing
    if (rc && rc != -EEXIST) {
      what = "cannot create clsact hook on ifindex " + std::to_string(index);
      return rc;
    }
    rc = bpf_tc_attach(&res->hook, &res->opts);
    if (rc) what = "cannot attach tc filter on ifindex " + std::to_string(index);
    return rc;
  });
  if (err) {
    if (netns_fd >= 0) close(netns_fd);
    if (what.empty()) what = "cannot enter network namespace " + netns;
    ThrowErrno(env, "attach-tc", err, what);
  }
  // the kernel reports the filter by handle and priority; keep only those for detach
  res->prog_id = res->opts.prog_id;
  res->opts.prog_fd = 0;
  res->opts.flags = 0;
  res->opts.prog_id = 0;
  res->attached = true;
  State(env)->tc_links.insert(res);
  TrackTcLink(res, true);
  return NewTcLinkHandle(env, res);
}

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "ifname");
  return Napi::Number::New(info.Env(), if_nametoindex(name.c_str()));
}

}  // namespace wirescope
