// The native half of @wirescope/libbpf: opens, loads, attaches, polls and frees, nothing
// more. Argument shapes are validated by the TypeScript wrapper; this side still checks
// every type it touches so that a bad call throws instead of crashing the process.
//
// This file is the module entry: it registers each concern's classes and functions, and at
// env teardown frees whatever the program left open. One file per concern:
//   errors.{h,cc}    libbpf's messages and the typed errors (BpfError) thrown to JS
//   args.h           argument checks (inline)
//   state.h          the per-env registry of resources
//   object.{h,cc}    open, set up, load, close; programs, maps, globals
//   tracing.{h,cc}   bpf_program__attach links
//   tc.{h,cc}        tc filters (clsact), detach at exit
//   netns.{h,cc}     calls inside a network namespace, on a thread of their own
//   ringbuf.{h,cc}   the batched uv_poll ring-buffer reader
//   map.{h,cc}       fd calls: lookup/update/delete/iterate, info, pin
//   test_run.{h,cc}  BPF_PROG_TEST_RUN
#include <napi.h>

#include <bpf/libbpf.h>

#include <cstdlib>
#include <mutex>

#include "errors.h"
#include "map.h"
#include "object.h"
#include "ringbuf.h"
#include "state.h"
#include "tc.h"
#include "tcx.h"
#include "test_run.h"
#include "tracing.h"

namespace wirescope {
namespace {

Napi::Value LiveResources(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* s = State(env);
  Napi::Object o = Napi::Object::New(env);
  size_t objects = 0, tc = 0, rbs = 0;
  for (auto& x : s->objects) objects += x->obj ? 1 : 0;
  for (auto& x : s->tc_links) tc += x->attached ? 1 : 0;
  for (auto& weak : s->ringbufs) {
    auto x = weak.lock();
    rbs += x && !x->closed ? 1 : 0;
  }
  o.Set("objects", (double)objects);
  o.Set("links", (double)s->links.size());
  o.Set("tcLinks", (double)tc);
  o.Set("ringBuffers", (double)rbs);
  return o;
}

// Env teardown (process exit, worker end): free whatever the program did not close, tc
// filters first since those would otherwise outlive the process.
void Cleanup(AddonState* s) {
  for (auto& l : s->tc_links) {
    l->Free();
    TrackTcLink(l, false);
  }
  for (auto& l : s->links) l->Free();
  for (auto& weak : s->ringbufs) {
    auto r = weak.lock();
    if (!r) continue;
    r->Stop();
    if (r->rb) ring_buffer__free(r->rb);
    r->rb = nullptr;
    r->closed = true;
  }
  for (auto& o : s->objects) o->Free();
  s->tc_links.clear();
  s->links.clear();
  s->objects.clear();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  CaptureLibbpfLog();
  static std::once_flag atexit_once;
  std::call_once(atexit_once, [] { std::atexit(DetachAllTcAtExit); });
  auto* state = new AddonState();
  env.SetInstanceData<AddonState>(state);
  env.AddCleanupHook([state] { Cleanup(state); });
  state->object_ctor = Napi::Persistent(DefineObjectHandle(env));
  state->link_ctor = Napi::Persistent(DefineLinkHandle(env));
  state->tc_link_ctor = Napi::Persistent(DefineTcLinkHandle(env));
  state->ringbuf_ctor = Napi::Persistent(DefineRingBufferHandle(env));
  exports.Set("ObjectHandle", state->object_ctor.Value());
  exports.Set("RingBufferHandle", state->ringbuf_ctor.Value());
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapNextKey", Napi::Function::New(env, MapNextKey));
  exports.Set("objPin", Napi::Function::New(env, ObjPin));
  exports.Set("objGet", Napi::Function::New(env, ObjGet));
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  exports.Set("testRun", Napi::Function::New(env, TestRun));
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex));
  exports.Set("tcxPrograms", Napi::Function::New(env, TcxPrograms));
  exports.Set("detachPinnedTcx", Napi::Function::New(env, DetachPinnedTcx));
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactory));
  exports.Set("setLogEcho", Napi::Function::New(env, SetLogEcho));
  exports.Set("liveResources", Napi::Function::New(env, LiveResources));
  return exports;
}

}  // namespace
}  // namespace wirescope

using wirescope::Init;
NODE_API_MODULE(wirescope_libbpf, Init)
