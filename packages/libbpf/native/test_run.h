// BPF_PROG_TEST_RUN on a loaded program's fd.
#pragma once
#include <napi.h>

namespace wirescope {

// testRun(progFd, packet, repeat, outSize) -> { retval, durationNs, dataOut }
Napi::Value TestRun(const Napi::CallbackInfo& info);

}  // namespace wirescope
