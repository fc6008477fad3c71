// Ring buffer reader (the batched uv_poll reader): every wake-up drains into one slab and
// makes ONE JS call (see ringbuf.h). With `reuse` every batch starts at the beginning of one
// slab (cache-hot, no allocation); otherwise slabs are handed over to JS and a new one is made
// when the current one runs out of room. A wake-up delivers at most `batchBytes`; the rest
// waits for the next loop turn (the epoll fd stays readable), so other I/O is never starved.
// The drain (OnSample, FillAndDeliver, DrainOnce, EnsureSlab) is a measured hot path and
// calls nothing outside this file but libbpf, N-API and, on errors only, errors.h.
#include "ringbuf.h"

#include <errno.h>
#include <string.h>

#include <algorithm>
#include <string>

#include "args.h"
#include "errors.h"
#include "state.h"

namespace wirescope {
namespace {

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

}  // namespace

Napi::Function DefineRingBufferHandle(Napi::Env env) { return RingBufferHandle::Init(env); }

}  // namespace wirescope
