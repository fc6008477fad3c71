// Ring buffer reader: uv_poll on ring_buffer__epoll_fd; every wake-up drains into one
// Buffer "slab" (records copied once, back to back) and makes ONE JS call with
// (slab, byteOffset, byteLength, offsets) where record i spans
// slab[byteOffset + offsets[i] .. byteOffset + offsets[i+1]). The reader itself is
// ringbuf.cc's; its resource is here for the registry's teardown and liveResources().
#pragma once
#include <napi.h>
#include <uv.h>

#include <bpf/libbpf.h>

#include <stdint.h>

#include <memory>
#include <vector>

namespace wirescope {

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

// The RingBufferHandle class: new RingBufferHandle(mapFd, callback, batchBytes, reuseBuffer).
Napi::Function DefineRingBufferHandle(Napi::Env env);

}  // namespace wirescope
