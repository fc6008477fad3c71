// Tracing links: bpf_program__attach and bpf_link__destroy.
#include "tracing.h"

#include <errno.h>

#include <memory>
#include <string>

#include "errors.h"
#include "state.h"

namespace wirescope {
namespace {

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

}  // namespace

Napi::Function DefineLinkHandle(Napi::Env env) { return LinkHandle::Init(env); }

Napi::Value AttachProgram(Napi::Env env, bpf_program* prog) {
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

}  // namespace wirescope
