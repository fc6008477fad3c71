// The native half of @wirescope/libbpf: opens, loads, attaches, polls and frees, nothing
// more. Argument shapes are validated by the TypeScript wrapper; this side still checks
// every type it touches so that a bad call throws instead of crashing the process.
#include <napi.h>
#include <uv.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------
// libbpf's own messages: kept (last lines only) so that errors can carry the verifier log.

std::mutex g_log_mutex;
std::deque<std::string> g_log_lines;
size_t g_log_bytes = 0;
constexpr size_t kLogMaxBytes = 64 * 1024;
bool g_log_echo = false;

int CaptureLibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && !g_log_echo) return 0;
  char line[4096];
  int n = vsnprintf(line, sizeof(line), format, args);
  if (n < 0) return 0;
  std::string text(line);
  if (g_log_echo) fputs(text.c_str(), stderr);
  if (level == LIBBPF_DEBUG) return n;
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_log_bytes += text.size();
  g_log_lines.push_back(std::move(text));
  while (g_log_bytes > kLogMaxBytes && !g_log_lines.empty()) {
    g_log_bytes -= g_log_lines.front().size();
    g_log_lines.pop_front();
  }
  return n;
}

void ClearLog() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_log_lines.clear();
  g_log_bytes = 0;
}

std::string TakeLog() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::string all;
  for (auto& l : g_log_lines) all += l;
  g_log_lines.clear();
  g_log_bytes = 0;
  return all;
}

// ---------------------------------------------------------------------------------------
// Errors: built by the JS factory registered with setErrorFactory (a BpfError), so native
// and TypeScript failures share one class.

struct AddonState;

std::string ErrnoName(int err) {
  if (err <= 0) return "EUNKNOWN";
  const char* name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

Napi::Error MakeError(Napi::Env env, const std::string& code, int err, const std::string& step,
                      const std::string& message);

[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& step, int err,
                             const std::string& what) {
  if (err < 0) err = -err;
  std::string message = what + ": " + strerror(err);
  throw MakeError(env, ErrnoName(err), err, step, message);
}

[[noreturn]] void ThrowCode(Napi::Env env, const std::string& code, const std::string& step,
                            const std::string& message) {
  throw MakeError(env, code, 0, step, message);
}

// ---------------------------------------------------------------------------------------
// Resources. Each is owned by a shared_ptr held both by its JS wrapper and by the per-env
// registry, so that whichever comes first (close(), GC, env teardown) frees it exactly once.

struct ObjectRes {
  bpf_object* obj = nullptr;
  bool loaded = false;
  void Free() {
    if (obj) bpf_object__close(obj);
    obj = nullptr;
  }
};

struct LinkRes {
  bpf_link* link = nullptr;
  void Free() {
    if (link) bpf_link__destroy(link);
    link = nullptr;
  }
};

// Runs fn in the network namespace open as netns_fd (-1: the current one) on a thread of its
// own, so the caller's thread never changes namespace.
int RunInNetns(int netns_fd, const std::function<int()>& fn) {
  if (netns_fd < 0) return fn();
  int result = 0;
  std::thread worker([&] {
    if (setns(netns_fd, CLONE_NEWNET) != 0) {
      result = -errno;
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

struct TcLinkRes {
  bpf_tc_hook hook{};
  bpf_tc_opts opts{};
  uint32_t prog_id = 0;  // what we attached: detach only if the filter still runs it
  int netns_fd = -1;
  bool attached = false;
  int Detach() {
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
  void Free() { Detach(); }
};

// Every attached tc filter of the process, across envs (workers). process.exit() on the main
// thread skips env cleanup hooks, so an atexit handler detaches what is still attached:
// filters are the one resource the kernel would otherwise keep after the process is gone.
std::mutex g_tc_mutex;
auto* g_tc_attached = new std::set<std::shared_ptr<TcLinkRes>>();  // never freed: used at exit

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

struct RingBufferRes;

struct AddonState {
  Napi::FunctionReference error_factory;
  Napi::FunctionReference object_ctor, link_ctor, tc_link_ctor, ringbuf_ctor;
  std::set<std::shared_ptr<ObjectRes>> objects;
  std::set<std::shared_ptr<LinkRes>> links;
  std::set<std::shared_ptr<TcLinkRes>> tc_links;
  // weak: a reader's memory goes with its JS object; teardown frees what is still alive
  std::vector<std::weak_ptr<RingBufferRes>> ringbufs;
};

AddonState* State(Napi::Env env) { return env.GetInstanceData<AddonState>(); }

Napi::Error MakeError(Napi::Env env, const std::string& code, int err, const std::string& step,
                      const std::string& message) {
  std::string log = TakeLog();
  AddonState* state = State(env);
  if (state && !state->error_factory.IsEmpty()) {
    Napi::Value value = state->error_factory.Call(
        {Napi::String::New(env, code), Napi::Number::New(env, err), Napi::String::New(env, step),
         Napi::String::New(env, message), Napi::String::New(env, log)});
    return Napi::Error(env, value);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", code);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("step", step);
  e.Set("log", log);
  return e;
}

// ---------------------------------------------------------------------------------------
// Argument helpers.

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t min,
               int64_t max) {
  if (info.Length() <= i || !info[i].IsNumber())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", std::string(what) + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d)
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args",
              std::string(what) + " must be an integer in " + std::to_string(min) + ".." +
                  std::to_string(max));
  return (int64_t)d;
}

Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsBuffer())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", std::string(what) + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

// ---------------------------------------------------------------------------------------
// BpfObjectHandle: one bpf_object from open to close.

class ObjectHandle : public Napi::ObjectWrap<ObjectHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ObjectHandle",
                       {InstanceMethod("programs", &ObjectHandle::Programs),
                        InstanceMethod("maps", &ObjectHandle::Maps),
                        InstanceMethod("globals", &ObjectHandle::Globals),
                        InstanceMethod("setGlobal", &ObjectHandle::SetGlobal),
                        InstanceMethod("setMaxEntries", &ObjectHandle::SetMaxEntries),
                        InstanceMethod("setAutoload", &ObjectHandle::SetAutoload),
                        InstanceMethod("reuseMapFd", &ObjectHandle::ReuseMapFd),
                        InstanceMethod("load", &ObjectHandle::Load),
                        InstanceMethod("mapFd", &ObjectHandle::MapFd),
                        InstanceMethod("programFd", &ObjectHandle::ProgramFd),
                        InstanceMethod("attach", &ObjectHandle::Attach),
                        InstanceMethod("attachTc", &ObjectHandle::AttachTc),
                        InstanceMethod("close", &ObjectHandle::Close)});
  }

  explicit ObjectHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ObjectHandle>(info) {
    Napi::Env env = info.Env();
    std::string path = ArgString(info, 0, "path");
    ClearLog();
    bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
    int err = libbpf_get_error(obj);
    if (!obj || err) ThrowErrno(env, "open", err ? err : errno, "cannot open BPF object " + path);
    res_ = std::make_shared<ObjectRes>();
    res_->obj = obj;
    State(env)->objects.insert(res_);
  }

  ~ObjectHandle() override {
    // GC of an unreferenced object: free it (its links live on in the kernel on their own)
    if (res_) res_->Free();
  }

 private:
  std::shared_ptr<ObjectRes> res_;

  bpf_object* Obj(Napi::Env env) {
    if (!res_ || !res_->obj) ThrowCode(env, "ERR_CLOSED", "args", "BPF object is closed");
    return res_->obj;
  }
  void RequireLoaded(Napi::Env env, bool want, const char* what) {
    if (res_->loaded != want)
      ThrowCode(env, want ? "ERR_NOT_LOADED" : "ERR_ALREADY_LOADED", "args",
                std::string(what) + (want ? " needs a loaded object: call load() first"
                                          : " is only possible before load()"));
  }
  bpf_program* Prog(Napi::Env env, const std::string& name, const char* step) {
    bpf_program* prog = bpf_object__find_program_by_name(Obj(env), name.c_str());
    if (!prog) {
      std::string known;
      bpf_program* p;
      bpf_object__for_each_program(p, res_->obj) {
        known += (known.empty() ? "" : ", ") + std::string(bpf_program__name(p));
      }
      ThrowCode(env, "ERR_NOT_FOUND", step,
                "no program '" + name + "' in object (programs: " + known + ")");
    }
    return prog;
  }
  bpf_map* Map(Napi::Env env, const std::string& name, const char* step) {
    bpf_map* map = bpf_object__find_map_by_name(Obj(env), name.c_str());
    if (!map) {
      std::string known;
      bpf_map* m;
      bpf_object__for_each_map(m, res_->obj) {
        known += (known.empty() ? "" : ", ") + std::string(bpf_map__name(m));
      }
      ThrowCode(env, "ERR_NOT_FOUND", step, "no map '" + name + "' in object (maps: " + known + ")");
    }
    return map;
  }

  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_object* obj = Obj(env);
    Napi::Array out = Napi::Array::New(env);
    bpf_program* prog;
    uint32_t i = 0;
    bpf_object__for_each_program(prog, obj) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("name", bpf_program__name(prog));
      p.Set("section", bpf_program__section_name(prog));
      const char* type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
      p.Set("type", type ? type : "unknown");
      p.Set("autoload", bpf_program__autoload(prog));
      out.Set(i++, p);
    }
    return out;
  }

  Napi::Value Maps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_object* obj = Obj(env);
    Napi::Array out = Napi::Array::New(env);
    bpf_map* map;
    uint32_t i = 0;
    bpf_object__for_each_map(map, obj) {
      Napi::Object m = Napi::Object::New(env);
      m.Set("name", bpf_map__name(map));
      const char* type = libbpf_bpf_map_type_str(bpf_map__type(map));
      m.Set("type", type ? type : "unknown");
      m.Set("keySize", bpf_map__key_size(map));
      m.Set("valueSize", bpf_map__value_size(map));
      m.Set("maxEntries", bpf_map__max_entries(map));
      m.Set("internal", bpf_map__is_internal(map));
      out.Set(i++, m);
    }
    return out;
  }

  // Global variables (const volatile rodata, .data, .bss) from the object's BTF DATASECs.
  Napi::Value Globals(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_object* obj = Obj(env);
    Napi::Array out = Napi::Array::New(env);
    const btf* b = bpf_object__btf(obj);
    if (!b) return out;
    uint32_t n = 0;
    bpf_map* map;
    bpf_object__for_each_map(map, obj) {
      if (!bpf_map__is_internal(map)) continue;
      const char* sec_name = nullptr;
      int sec_id = -1;
      // internal map names are truncated ("probe.rodata"); match on the section suffix
      for (uint32_t id = 1; id < btf__type_cnt(b); id++) {
        const btf_type* t = btf__type_by_id(b, id);
        if (!btf_is_datasec(t)) continue;
        const char* name = btf__name_by_offset(b, t->name_off);
        std::string map_name = bpf_map__name(map);
        if (name && map_name.size() >= strlen(name) &&
            map_name.compare(map_name.size() - strlen(name), strlen(name), name) == 0) {
          sec_name = name;
          sec_id = (int)id;
        }
      }
      if (sec_id < 0) continue;
      const btf_type* sec = btf__type_by_id(b, sec_id);
      const btf_var_secinfo* vs = btf_var_secinfos(sec);
      for (uint16_t k = 0; k < btf_vlen(sec); k++, vs++) {
        const btf_type* var = btf__type_by_id(b, vs->type);
        Napi::Object g = Napi::Object::New(env);
        g.Set("name", btf__name_by_offset(b, var->name_off));
        g.Set("section", sec_name);
        g.Set("map", bpf_map__name(map));
        g.Set("offset", vs->offset);
        g.Set("size", vs->size);
        out.Set(n++, g);
      }
    }
    return out;
  }

  // setGlobal(mapName, offset, bytes): write a global's initial value before load.
  Napi::Value SetGlobal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, false, "setting a global");
    bpf_map* map = Map(env, ArgString(info, 0, "map"), "rodata");
    int64_t offset = ArgInt(info, 1, "offset", 0, UINT32_MAX);
    auto bytes = ArgBuffer(info, 2, "value");
    size_t size = 0;
    void* data = const_cast<void*>(bpf_map__initial_value(map, &size));
    if (!data || (size_t)offset + bytes.Length() > size)
      ThrowCode(env, "ERR_INVALID_ARG", "rodata", "global does not fit its section");
    memcpy((uint8_t*)data + offset, bytes.Data(), bytes.Length());
    return env.Undefined();
  }

  Napi::Value SetMaxEntries(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, false, "resizing a map");
    bpf_map* map = Map(env, ArgString(info, 0, "map"), "open");
    int64_t n = ArgInt(info, 1, "maxEntries", 1, UINT32_MAX);
    int err = bpf_map__set_max_entries(map, (uint32_t)n);
    if (err) ThrowErrno(env, "open", err, std::string("cannot resize map ") + bpf_map__name(map));
    return env.Undefined();
  }

  // Shares an already created map (e.g. one ring buffer for every datapath object) instead of
  // creating this object's own at load.
  Napi::Value ReuseMapFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, false, "reusing a map");
    bpf_map* map = Map(env, ArgString(info, 0, "map"), "open");
    int64_t fd = ArgInt(info, 1, "fd", 0, INT32_MAX);
    int err = bpf_map__reuse_fd(map, (int)fd);
    if (err) ThrowErrno(env, "open", err, std::string("cannot reuse a map fd for ") + bpf_map__name(map));
    return env.Undefined();
  }

  Napi::Value SetAutoload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, false, "changing autoload");
    bpf_program* prog = Prog(env, ArgString(info, 0, "program"), "open");
    if (info.Length() < 2 || !info[1].IsBoolean())
      ThrowCode(env, "ERR_INVALID_ARG", "args", "autoload must be a boolean");
    bpf_program__set_autoload(prog, info[1].As<Napi::Boolean>().Value());
    return env.Undefined();
  }

  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_object* obj = Obj(env);
    RequireLoaded(env, false, "load()");
    ClearLog();
    int err = bpf_object__load(obj);
    if (err) ThrowErrno(env, "load", err, std::string("cannot load BPF object ") + bpf_object__name(obj));
    res_->loaded = true;
    return env.Undefined();
  }

  Napi::Value MapFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, true, "a map fd");
    bpf_map* map = Map(env, ArgString(info, 0, "map"), "map");
    return Napi::Number::New(env, bpf_map__fd(map));
  }

  Napi::Value ProgramFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, true, "a program fd");
    bpf_program* prog = Prog(env, ArgString(info, 0, "program"), "program");
    int fd = bpf_program__fd(prog);
    if (fd < 0) ThrowCode(env, "ERR_NOT_LOADED", "program", "program was not loaded (autoload off)");
    return Napi::Number::New(env, fd);
  }

  // attach(program): fentry/fexit/tp_btf/tracepoint/raw_tp... as the section name says.
  Napi::Value Attach(const Napi::CallbackInfo& info);
  // attachTc(program, ifindex, ifname, ingress, priority, handle, netnsPath, replace)
  Napi::Value AttachTc(const Napi::CallbackInfo& info);

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (res_) {
      res_->Free();
      State(info.Env())->objects.erase(res_);
    }
    return info.Env().Undefined();
  }
};

class LinkHandle : public Napi::ObjectWrap<LinkHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "LinkHandle", {InstanceMethod("detach", &LinkHandle::Detach)});
  }
  explicit LinkHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LinkHandle>(info) {}
  ~LinkHandle() override {
    if (res_) res_->Free();  // an fd-based link ends with its last reference anyway
  }
  std::shared_ptr<LinkRes> res_;

 private:
  Napi::Value Detach(const Napi::CallbackInfo& info) {
    if (res_) {
      res_->Free();
      State(info.Env())->links.erase(res_);
    }
    return info.Env().Undefined();
  }
};

class TcLinkHandle : public Napi::ObjectWrap<TcLinkHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "TcLinkHandle", {InstanceMethod("detach", &TcLinkHandle::Detach),
                                             InstanceMethod("info", &TcLinkHandle::Info)});
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
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("ifindex", res_->hook.ifindex);
    o.Set("handle", res_->opts.handle);
    o.Set("priority", res_->opts.priority);
    o.Set("attached", res_->attached);
    return o;
  }
};

Napi::Value ObjectHandle::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Obj(env);
  RequireLoaded(env, true, "attach()");
  bpf_program* prog = Prog(env, ArgString(info, 0, "program"), "attach");
  if (bpf_program__fd(prog) < 0)
    ThrowCode(env, "ERR_NOT_LOADED", "attach", "program was not loaded (autoload off)");
  ClearLog();
  bpf_link* link = bpf_program__attach(prog);
  int err = libbpf_get_error(link);
  if (!link || err)
    ThrowErrno(env, "attach", err ? err : errno,
               std::string("cannot attach ") + bpf_program__name(prog) + " (" +
                   bpf_program__section_name(prog) + ")");
  auto res = std::make_shared<LinkRes>();
  res->link = link;
  State(env)->links.insert(res);
  Napi::Object handle = State(env)->link_ctor.New({});
  LinkHandle::Unwrap(handle)->res_ = res;
  return handle;
}

Napi::Value ObjectHandle::AttachTc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Obj(env);
  RequireLoaded(env, true, "attachTc()");
  bpf_program* prog = Prog(env, ArgString(info, 0, "program"), "attach-tc");
  int prog_fd = bpf_program__fd(prog);
  if (prog_fd < 0) ThrowCode(env, "ERR_NOT_LOADED", "attach-tc", "program was not loaded (autoload off)");
  int64_t ifindex = ArgInt(info, 1, "ifindex", 0, INT32_MAX);
  std::string ifname = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
  if (info.Length() < 4 || !info[3].IsBoolean())
    ThrowCode(env, "ERR_INVALID_ARG", "args", "ingress must be a boolean");
  bool ingress = info[3].As<Napi::Boolean>().Value();
  int64_t priority = ArgInt(info, 4, "priority", 0, 0xffff);
  int64_t handle = ArgInt(info, 5, "handle", 0, UINT32_MAX);
  std::string netns = info.Length() > 6 && info[6].IsString() ? info[6].As<Napi::String>().Utf8Value() : "";
  bool replace = info.Length() > 7 && info[7].ToBoolean().Value();

  int netns_fd = -1;
  if (!netns.empty()) {
    netns_fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) ThrowErrno(env, "attach-tc", errno, "cannot open network namespace " + netns);
  }
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
  Napi::Object h = State(env)->tc_link_ctor.New({});
  TcLinkHandle::Unwrap(h)->res_ = res;
  return h;
}

// ---------------------------------------------------------------------------------------
// Ring buffer reader: uv_poll on ring_buffer__epoll_fd; every wake-up drains into one
// Buffer "slab" (records copied once, back to back) and makes ONE JS call with
// (slab, byteOffset, byteLength, offsets) where record i spans
// slab[byteOffset + offsets[i] .. byteOffset + offsets[i+1]). With `reuse` every batch
// starts at the beginning of one slab (cache-hot, no allocation); otherwise slabs are
// handed over to JS and a new one is made when the current one runs out of room. A wake-up delivers at most `batchBytes`; the rest waits for the
// next loop turn (the epoll fd stays readable), so other I/O is never starved.

// Where OnSample writes the next record: only what the per-record path touches, in one line.
struct HotCursor {
  uint8_t* dst = nullptr;      // next record's bytes
  uint8_t* dst_end = nullptr;  // min(slab end, batch start + batch_bytes)
  uint8_t* batch = nullptr;    // the batch's first byte: offsets are relative to it
  uint32_t* off = nullptr;     // next record's offset
  uint32_t* off_end = nullptr;
};

struct RingBufferRes : std::enable_shared_from_this<RingBufferRes> {
  HotCursor cursor;
  napi_env env = nullptr;
  ring_buffer* rb = nullptr;
  uv_poll_t* poll = nullptr;
  uv_timer_t* again = nullptr;  // continues a drain cut short by batchBytes on the next turn
  bool polling = false;
  bool closed = false;
  size_t batch_bytes = 0;
  // slab being filled
  Napi::Reference<Napi::Buffer<uint8_t>> slab_ref;
  bool reuse = false;  // one slab for every batch: valid only during the callback
  uint8_t* slab = nullptr;
  size_t slab_size = 0;
  size_t slab_used = 0;
  // one wake-up's bookkeeping
  size_t batch_start = 0;
  std::vector<uint32_t> offsets;  // capacity fixed at open: batch_bytes / 8 + 2
  uint32_t* offsets_data = nullptr;
  size_t max_count = 0;
  Napi::Reference<Napi::Uint32Array> offsets_ref;  // reuse mode: one offsets array too
  std::vector<uint8_t> carry;  // a record that did not fit the slab: first of the next batch
  bool batch_full = false;
  bool delivering = false;  // inside the JS batch callback
  // The callback lives on the JS wrapper (a C++ strong reference to it would make the
  // wrapper -> callback -> reader -> wrapper cycle uncollectable); we hold the wrapper weakly.
  Napi::ObjectReference wrapper;
  Napi::ObjectReference self;  // keeps the JS wrapper alive while polling
  uint64_t records = 0, batches = 0, bytes = 0;

  void Stop() {
    if (polling && poll) uv_poll_stop(poll);
    if (again) uv_timer_stop(again);
    polling = false;
  }
  void Free() {
    if (closed) return;
    closed = true;
    Stop();
    if (poll) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll = nullptr;
    }
    if (again) {
      uv_close(reinterpret_cast<uv_handle_t*>(again),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
      again = nullptr;
    }
    if (rb) ring_buffer__free(rb);
    rb = nullptr;
  }
  // Drops every JS value held (callback, slab, offsets, self) so the GC can take them.
  void ReleaseJs() {
    wrapper.Reset();
    slab_ref.Reset();
    offsets_ref.Reset();
    self.Reset();
    slab = nullptr;
    offsets_data = nullptr;
  }
};

constexpr size_t kMinSlabRoom = 64 * 1024;
// OnSample copies small records as 32 bytes, up to 24 past the record's end
constexpr size_t kSlabSlack = 32;
// The JS handler runs between batches and interrupts the hardware prefetcher's stream
// through the ring; fetching 4 KiB ahead keeps the ring's next page on its way (measured in
// bench/ringbuf.ts: ~155M -> ~210M records/s with 256 KiB batches). Prefetches never fault.
constexpr size_t kPrefetchAhead = 4096;
constexpr const char* kCallbackKey = "_onBatch";

class RingBufferHandle : public Napi::ObjectWrap<RingBufferHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "RingBufferHandle",
                       {InstanceMethod("pause", &RingBufferHandle::Pause),
                        InstanceMethod("resume", &RingBufferHandle::Resume),
                        InstanceMethod("drain", &RingBufferHandle::Drain),
                        InstanceMethod("stats", &RingBufferHandle::Stats),
                        InstanceMethod("close", &RingBufferHandle::Close)});
  }

  // new RingBufferHandle(mapFd, callback, batchBytes)
  explicit RingBufferHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<RingBufferHandle>(info) {
    Napi::Env env = info.Env();
    int fd = (int)ArgInt(info, 0, "map fd", 0, INT32_MAX);
    if (info.Length() < 2 || !info[1].IsFunction())
      ThrowCode(env, "ERR_INVALID_ARG", "args", "callback must be a function");
    size_t batch_bytes = (size_t)ArgInt(info, 2, "batchBytes", 4096, 1LL << 30);
    res_ = std::make_shared<RingBufferRes>();
    res_->env = env;
    res_->batch_bytes = batch_bytes;
    res_->reuse = info.Length() > 3 && info[3].ToBoolean().Value();
    res_->offsets.resize(batch_bytes / 8 + 2);
    res_->max_count = res_->offsets.size() - 1;
    if (res_->reuse) {
      // offsets are written straight into the one Uint32Array every batch gets a view of
      Napi::Uint32Array all = Napi::Uint32Array::New(env, res_->offsets.size());
      res_->offsets_ref = Napi::Persistent(all);
      res_->offsets_data = all.Data();
    } else {
      res_->offsets_data = res_->offsets.data();
    }
    ClearLog();
    res_->rb = ring_buffer__new(fd, &RingBufferHandle::OnSample, res_.get(), nullptr);
    int err = libbpf_get_error(res_->rb);
    if (!res_->rb || err) {
      res_->rb = nullptr;
      res_.reset();
      ThrowErrno(env, "ringbuf", err ? err : errno, "cannot open ring buffer on map fd " + std::to_string(fd));
    }
    Value().Set(kCallbackKey, info[1]);
    res_->wrapper = Napi::Weak(Value());
    res_->poll = new uv_poll_t();
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    uv_poll_init(loop, res_->poll, ring_buffer__epoll_fd(res_->rb));
    res_->poll->data = res_.get();
    res_->again = new uv_timer_t();
    uv_timer_init(loop, res_->again);
    res_->again->data = res_.get();
    auto& live = State(env)->ringbufs;
    live.erase(std::remove_if(live.begin(), live.end(), [](auto& w) { return w.expired(); }), live.end());
    live.push_back(res_);
    StartPolling(env);
  }

  ~RingBufferHandle() override {
    if (!res_) return;
    res_->Free();
    res_->ReleaseJs();
  }

 private:
  std::shared_ptr<RingBufferRes> res_;

  RingBufferRes* Res(Napi::Env env) {
    if (!res_ || res_->closed) ThrowCode(env, "ERR_CLOSED", "ringbuf", "ring buffer reader is closed");
    return res_.get();
  }

  void StartPolling(Napi::Env env) {
    if (res_->polling) return;
    int rc = uv_poll_start(res_->poll, UV_READABLE, &RingBufferHandle::OnPoll);
    if (rc) ThrowCode(env, "EIO", "ringbuf", std::string("uv_poll_start: ") + uv_strerror(rc));
    res_->polling = true;
    if (res_->self.IsEmpty()) res_->self = Napi::Persistent(Value());
    // a record carried over from a batch cut short may be all that is left: no wake-up
    // would come for it, so schedule a drain
    if (!res_->carry.empty()) uv_timer_start(res_->again, &RingBufferHandle::OnAgain, 0, 0);
  }

  void StopPolling() {
    res_->Stop();
    if (!res_->self.IsEmpty()) res_->self.Reset();
  }

  static void EnsureSlab(RingBufferRes* r, size_t need) {
    // room for at least the carried record and a useful batch (never more than a whole batch)
    size_t room = std::max(need, std::min(kMinSlabRoom, r->batch_bytes));
    if (r->slab && r->slab_size - r->slab_used >= room) return;
    Napi::Env env(r->env);
    size_t size = std::max(r->batch_bytes, need);
    // node Buffers are allocated without zero-filling: every byte we hand out is written first
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, size + kSlabSlack);
    r->slab_ref = Napi::Persistent(buf);
    r->slab = buf.Data();
    r->slab_size = size;  // the slack past it is never handed out
    r->slab_used = 0;
  }

  // Hot path, once per record. Ring-buffer samples are 8-byte aligned and padded to 8
  // bytes in the ring, so whole words are copied; every record starts 8-byte aligned in
  // the slab and typed arrays can read it in place.
  static int OnSample(void* ctx, void* data, size_t size) {
    HotCursor& c = static_cast<RingBufferRes*>(ctx)->cursor;
    size_t padded = (size + 7) & ~size_t(7);
    uint8_t* dst = c.dst;
    // dst_end = min(slab end, batch start + batch_bytes); off_end leaves room for the end offset
    if (__builtin_expect(padded > size_t(c.dst_end - dst) || c.off == c.off_end, 0)) {
      // already consumed from the ring: keep it for the next batch and stop this one
      RingBufferRes* r = static_cast<RingBufferRes*>(ctx);
      r->carry.assign(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + padded);
      r->batch_full = true;
      return -EAGAIN;
    }
    *c.off++ = uint32_t(dst - c.batch);
    c.dst = dst + padded;
    const uint8_t* src = static_cast<const uint8_t*>(data);
    __builtin_prefetch(src + kPrefetchAhead);
    if (__builtin_expect(padded <= 32, 1)) {
      // small records (all of Wirescope's): two fixed 16-byte moves; the bytes past the
      // record are the ring's next bytes (mapped: the data area is mapped twice) and land in
      // the slab's slack or where the next record will be written
      __builtin_memcpy(dst, src, 16);
      __builtin_memcpy(dst + 16, src + 16, 16);
      return 0;
    }
    size_t done = 0;
    for (; done + 32 <= padded; done += 32) __builtin_memcpy(dst + done, src + done, 32);
    for (; done < padded; done += 8) __builtin_memcpy(dst + done, src + done, 8);
    return 0;
  }

  // Drains up to one batch and delivers it; returns the number of records delivered.
  static size_t DrainOnce(RingBufferRes* r, int* error) {
    size_t n = FillAndDeliver(r, error);
    // a first record larger than the slab's room only moved to `carry`: go again with room
    if (n == 0 && r->batch_full && !r->closed) n = FillAndDeliver(r, error);
    return n;
  }

  static size_t FillAndDeliver(RingBufferRes* r, int* error) {
    Napi::Env env(r->env);
    *error = 0;
    if (r->reuse) r->slab_used = 0;
    EnsureSlab(r, r->carry.size());
    r->batch_start = r->slab_used;
    r->batch_full = false;
    HotCursor& c = r->cursor;
    c.batch = r->slab + r->batch_start;
    c.dst = c.batch;
    c.dst_end = r->slab + std::min(r->slab_size, r->batch_start + r->batch_bytes);
    c.off = r->offsets_data;
    c.off_end = r->offsets_data + r->max_count;
    if (!r->carry.empty()) {
      memcpy(c.dst, r->carry.data(), r->carry.size());
      *c.off++ = 0;
      c.dst += r->carry.size();
      r->carry.clear();
      // a carried record larger than batchBytes is a batch of its own
      if (c.dst > c.dst_end) c.dst_end = c.dst;
    }
    int rc = ring_buffer__consume(r->rb);
    if (rc < 0 && !r->batch_full) *error = rc;
    r->slab_used = size_t(c.dst - r->slab);
    size_t count = size_t(c.off - r->offsets_data);
    if (count == 0) return 0;
    size_t batch_len = r->slab_used - r->batch_start;
    r->offsets_data[count] = (uint32_t)batch_len;
    Napi::Uint32Array offsets;
    if (r->reuse) {
      Napi::Uint32Array all = r->offsets_ref.Value();
      offsets = Napi::Uint32Array::New(env, count + 1, all.ArrayBuffer(), 0);
    } else {
      offsets = Napi::Uint32Array::New(env, count + 1);
      memcpy(offsets.Data(), r->offsets.data(), (count + 1) * sizeof(uint32_t));
    }
    Napi::Buffer<uint8_t> slab = r->slab_ref.Value();
    size_t start = r->batch_start;
    r->records += count;
    r->batches += 1;
    r->bytes += batch_len;
    if (r->wrapper.IsEmpty()) return count;
    Napi::Value cb_value = r->wrapper.Value().IsObject() ? r->wrapper.Value().Get(kCallbackKey) : env.Undefined();
    if (!cb_value.IsFunction()) return count;
    Napi::Function cb = cb_value.As<Napi::Function>();
    r->delivering = true;
    try {
      cb.MakeCallback(env.Global(), {slab, Napi::Number::New(env, (double)start),
                                     Napi::Number::New(env, (double)batch_len), offsets});
    } catch (...) {
      r->delivering = false;
      throw;
    }
    r->delivering = false;
    return count;
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    OnWake(static_cast<RingBufferRes*>(handle->data));
  }
  static void OnAgain(uv_timer_t* handle) { OnWake(static_cast<RingBufferRes*>(handle->data)); }

  static void OnWake(RingBufferRes* r) {
    if (!r || r->closed || !r->rb) return;
    // the handler may pause() and drop the reader; its GC must not free r under our feet
    std::shared_ptr<RingBufferRes> keep = r->shared_from_this();
    Napi::Env env(r->env);
    Napi::HandleScope scope(env);
    int error = 0;
    try {
      DrainOnce(r, &error);
    } catch (const Napi::Error& e) {
      // the batch callback threw: surface it as an uncaught exception, like any event handler
      napi_fatal_exception(r->env, e.Value());
      return;
    }
    if (error < 0 && !r->closed) {
      Napi::Error e = MakeError(env, ErrnoName(-error), -error, "ringbuf", std::string("ring_buffer__consume: ") + strerror(-error));
      napi_fatal_exception(r->env, e.Value());
      return;
    }
    // a batch cut at batchBytes may leave data (or the carried record) and no new wake-up
    if (!r->closed && r->polling && (r->batch_full || !r->carry.empty()))
      uv_timer_start(r->again, &RingBufferHandle::OnAgain, 0, 0);
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    Res(info.Env());
    StopPolling();
    return info.Env().Undefined();
  }
  Napi::Value Resume(const Napi::CallbackInfo& info) {
    Res(info.Env());
    StartPolling(info.Env());
    return info.Env().Undefined();
  }
  // drain(): synchronous delivery of everything pending (one callback per batch).
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RingBufferRes* r = Res(env);
    // a nested drain would refill the slab and offsets the running handler is reading
    if (r->delivering)
      ThrowCode(env, "ERR_INVALID_ARG", "ringbuf", "drain() cannot be called from inside a batch handler");
    double total = 0;
    for (;;) {
      int error = 0;
      size_t n = DrainOnce(r, &error);
      if (error < 0) ThrowErrno(env, "ringbuf", error, "ring_buffer__consume");
      total += (double)n;
      if (r->closed || (!r->batch_full && r->carry.empty())) break;
    }
    return Napi::Number::New(env, total);
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("records", (double)(res_ ? res_->records : 0));
    o.Set("batches", (double)(res_ ? res_->batches : 0));
    o.Set("bytes", (double)(res_ ? res_->bytes : 0));
    return o;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (res_ && !res_->closed) {
      StopPolling();
      res_->Free();
      res_->ReleaseJs();
    }
    return info.Env().Undefined();
  }
};

// ---------------------------------------------------------------------------------------
// fd-level map and program calls (work for maps of an object and for pinned maps alike).

Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = (int)ArgInt(info, 0, "map fd", 0, INT32_MAX);
  auto key = ArgBuffer(info, 1, "key");
  size_t value_size = (size_t)ArgInt(info, 2, "value size", 0, 1 << 26);
  auto value = Napi::Buffer<uint8_t>::New(env, value_size);
  if (bpf_map_lookup_elem(fd, key.Data(), value.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, "map", errno, "map lookup failed");
  }
  return value;
}

Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = (int)ArgInt(info, 0, "map fd", 0, INT32_MAX);
  auto key = ArgBuffer(info, 1, "key");
  auto value = ArgBuffer(info, 2, "value");
  uint64_t flags = (uint64_t)ArgInt(info, 3, "flags", 0, 7);
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0)
    ThrowErrno(env, "map", errno, "map update failed");
  return env.Undefined();
}

Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = (int)ArgInt(info, 0, "map fd", 0, INT32_MAX);
  auto key = ArgBuffer(info, 1, "key");
  if (bpf_map_delete_elem(fd, key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, "map", errno, "map delete failed");
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value MapNextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = (int)ArgInt(info, 0, "map fd", 0, INT32_MAX);
  size_t key_size = (size_t)ArgInt(info, 2, "key size", 1, 1 << 20);
  const void* prev = nullptr;
  if (info.Length() > 1 && info[1].IsBuffer()) prev = info[1].As<Napi::Buffer<uint8_t>>().Data();
  auto next = Napi::Buffer<uint8_t>::New(env, key_size);
  if (bpf_map_get_next_key(fd, prev, next.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, "map", errno, "map iteration failed");
  }
  return next;
}

Napi::Value ObjPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = (int)ArgInt(info, 0, "fd", 0, INT32_MAX);
  std::string path = ArgString(info, 1, "path");
  if (bpf_obj_pin(fd, path.c_str()) != 0) ThrowErrno(env, "pin", errno, "cannot pin at " + path);
  return env.Undefined();
}

Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) ThrowErrno(env, "pin", errno, "cannot open pinned object " + path);
  return Napi::Number::New(env, fd);
}

Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = (int)ArgInt(info, 0, "map fd", 0, INT32_MAX);
  bpf_map_info mi{};
  uint32_t len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) ThrowErrno(env, "map", errno, "cannot read map info");
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", mi.name);
  const char* type = libbpf_bpf_map_type_str((enum bpf_map_type)mi.type);
  o.Set("type", type ? type : "unknown");
  o.Set("keySize", mi.key_size);
  o.Set("valueSize", mi.value_size);
  o.Set("maxEntries", mi.max_entries);
  o.Set("id", mi.id);
  return o;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = (int)ArgInt(info, 0, "fd", 0, INT32_MAX);
  close(fd);
  return info.Env().Undefined();
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) ThrowErrno(info.Env(), "map", n, "cannot count possible CPUs");
  return Napi::Number::New(info.Env(), n);
}

// testRun(progFd, packet, repeat, outSize) -> { retval, durationNs, dataOut }
Napi::Value TestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = (int)ArgInt(info, 0, "program fd", 0, INT32_MAX);
  auto packet = ArgBuffer(info, 1, "packet");
  int64_t repeat = ArgInt(info, 2, "repeat", 1, UINT32_MAX);
  size_t out_size = (size_t)ArgInt(info, 3, "output size", 0, 1 << 24);
  std::vector<uint8_t> out(out_size);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.Data(),
              .data_out = out_size ? out.data() : nullptr,
              .data_size_in = (uint32_t)packet.Length(), .data_size_out = (uint32_t)out_size,
              .repeat = (int)repeat);
  ClearLog();
  if (bpf_prog_test_run_opts(fd, &opts) != 0) ThrowErrno(env, "test-run", errno, "BPF_PROG_TEST_RUN failed");
  Napi::Object o = Napi::Object::New(env);
  o.Set("retval", Napi::Number::New(env, (int32_t)opts.retval));
  o.Set("durationNs", opts.duration);
  o.Set("dataOut", Napi::Buffer<uint8_t>::Copy(env, out.data(), std::min<size_t>(opts.data_size_out, out_size)));
  return o;
}

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "ifname");
  return Napi::Number::New(info.Env(), if_nametoindex(name.c_str()));
}

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction())
    ThrowCode(info.Env(), "ERR_INVALID_ARG", "args", "error factory must be a function");
  State(info.Env())->error_factory = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value SetLogEcho(const Napi::CallbackInfo& info) {
  g_log_echo = info.Length() > 0 && info[0].ToBoolean().Value();
  return info.Env().Undefined();
}

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
  libbpf_set_print(CaptureLibbpfPrint);
  static std::once_flag atexit_once;
  std::call_once(atexit_once, [] { std::atexit(DetachAllTcAtExit); });
  auto* state = new AddonState();
  env.SetInstanceData<AddonState>(state);
  env.AddCleanupHook([state] { Cleanup(state); });
  state->object_ctor = Napi::Persistent(ObjectHandle::Init(env));
  state->link_ctor = Napi::Persistent(LinkHandle::Init(env));
  state->tc_link_ctor = Napi::Persistent(TcLinkHandle::Init(env));
  state->ringbuf_ctor = Napi::Persistent(RingBufferHandle::Init(env));
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
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactory));
  exports.Set("setLogEcho", Napi::Function::New(env, SetLogEcho));
  exports.Set("liveResources", Napi::Function::New(env, LiveResources));
  return exports;
}

}  // namespace

NODE_API_MODULE(wirescope_libbpf, Init)
