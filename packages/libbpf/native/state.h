// The per-env registry every concern shares. Each resource is owned by a shared_ptr held both
// by its JS wrapper and by this registry, so that whichever comes first (close(), GC, env
// teardown) frees it exactly once.
#pragma once
#include <napi.h>

#include <memory>
#include <set>
#include <vector>

namespace wirescope {

struct ObjectRes;      // object.h
struct LinkRes;        // tracing.h
struct TcLinkRes;      // tc.h
struct RingBufferRes;  // ringbuf.h

struct AddonState {
  Napi::FunctionReference error_factory;
  Napi::FunctionReference object_ctor, link_ctor, tc_link_ctor, ringbuf_ctor;
  std::set<std::shared_ptr<ObjectRes>> objects;
  std::set<std::shared_ptr<LinkRes>> links;
  std::set<std::shared_ptr<TcLinkRes>> tc_links;
  // weak: a reader's memory goes with its JS object; teardown frees what is still alive
  std::vector<std::weak_ptr<RingBufferRes>> ringbufs;
};

inline AddonState* State(Napi::Env env) { return env.GetInstanceData<AddonState>(); }

}  // namespace wirescope
