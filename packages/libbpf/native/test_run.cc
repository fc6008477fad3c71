// BPF_PROG_TEST_RUN: runs a program on a packet, returns its verdict, time and output.
#include "test_run.h"

#include <bpf/bpf.h>

#include <errno.h>
#include <stdint.h>

#include <algorithm>
#include <vector>

#include "args.h"
#include "errors.h"

namespace wirescope {

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

}  // namespace wirescope
