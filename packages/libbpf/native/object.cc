// BpfObjectHandle: one bpf_object from open to close.
#include "object.h"

#include <bpf/btf.h>

#include <errno.h>
#include <string.h>

#include <memory>
#include <string>

#include "args.h"
#include "errors.h"
#include "state.h"
#include "tc.h"
#include "tcx.h"
#include "tracing.h"

namespace wirescope {
namespace {

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
                        InstanceMethod("attachTcx", &ObjectHandle::AttachTcx),
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
  Napi::Value Attach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, true, "attach()");
    return AttachProgram(env, Prog(env, ArgString(info, 0, "program"), "attach"));
  }
  // attachTc(program, ifindex, ifname, ingress, priority, handle, netnsPath, replace)
  Napi::Value AttachTc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, true, "attachTc()");
    return AttachTcFilter(info, Prog(env, ArgString(info, 0, "program"), "attach-tc"));
  }

  // attachTcx(program, ifindex, ifname, ingress, netnsPath, pinPath, filterPriority, filterHandle)
  Napi::Value AttachTcx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Obj(env);
    RequireLoaded(env, true, "attachTc()");
    return AttachTcxLink(info, Prog(env, ArgString(info, 0, "program"), "attach-tc"));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (res_) {
      res_->Free();
      State(info.Env())->objects.erase(res_);
    }
    return info.Env().Undefined();
  }
};

}  // namespace

Napi::Function DefineObjectHandle(Napi::Env env) { return ObjectHandle::Init(env); }

}  // namespace wirescope
