// fd-level map and object calls: one bpf(2) wrapper each.
#include "map.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include <string>

#include "args.h"
#include "errors.h"

namespace wirescope {

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

}  // namespace wirescope
