import { BpfError, invalidArg } from './errors.js';
import type { BpfMap } from './map.js';
import { native, type NativeRingBufferHandle } from './native.js';
import { checkInt } from './validate.js';

/**
 * Everything one ring-buffer wake-up drained, copied once into `buffer`. Record i is
 * buffer[offsets[i] .. offsets[i + 1]); `count` records, offsets has count + 1 entries.
 * As in the kernel's ring, every record starts 8-byte aligned (buffer.byteOffset too), so
 * typed arrays can read fields in place; a record whose size is not a multiple of 8 ends
 * with up to 7 padding bytes (Wirescope's records are all multiples of 8).
 * The buffer belongs to the receiver and may be kept, unless the reader was opened with
 * `reuseBuffer: true` (then it is overwritten by the next batch: copy what you keep).
 */
export interface RecordBatch {
  readonly buffer: Buffer;
  readonly offsets: Uint32Array;
  readonly count: number;
}

export type BatchHandler = (batch: RecordBatch) => void;

export interface RingBufferOptions {
  /**
   * Most bytes delivered per callback (default 256 KiB: a batch stays in the CPU's L2 cache
   * while the handler reads it); the rest follows on the next loop turn.
   */
  batchBytes?: number;
  /** Start paused (default false). */
  paused?: boolean;
  /**
   * Reuse one buffer for every batch (default false): faster (no allocation, cache-hot),
   * but a batch's buffer is only valid until the handler returns.
   */
  reuseBuffer?: boolean;
  /**
   * Coalesce wake-ups (default 0: every wake-up is delivered at once). After a batch shorter
   * than half of batchBytes the reader stops polling for this many ms, so records pile up in the
   * kernel ring and arrive as one batch: at a few thousand records/s the kernel otherwise wakes
   * the loop for every record or two, and each wake-up costs far more than the records (one
   * callback, one downstream write per consumer). The kernel keeps records meanwhile; a batch of
   * half batchBytes or more means the reader is behind, and it keeps draining without a pause.
   */
  coalesceMs?: number;
}

/** Copy of record i of a batch's buffer (a view, not a copy: subarray). */
export function batchRecord(batch: RecordBatch, index: number): Buffer {
  const start = batch.offsets[index];
  const end = batch.offsets[index + 1];
  if (start === undefined || end === undefined)
    throw invalidArg(`record index ${index} out of range 0..${batch.count - 1}`);
  return batch.buffer.subarray(start, end);
}

/** Iterates the records of a batch as Buffer views. */
export function* batchRecords(batch: RecordBatch): IterableIterator<Buffer> {
  for (let i = 0; i < batch.count; i++) yield batchRecord(batch, i);
}

const DEFAULT_BATCH_BYTES = 256 << 10;
/** Batches queued for a slow async iterator before the reader pauses itself. */
const ITERATOR_HIGH_WATER = 64;

/**
 * Reads a BPF ring buffer from the libuv loop: ONE handler call per wake-up with the whole
 * batch. pause()/resume() stop and restart polling (the kernel keeps records meanwhile, up to
 * the ring's size); close() is idempotent. Also an AsyncIterable of batches.
 */
export class RingBufferReader implements AsyncIterable<RecordBatch> {
  readonly map: BpfMap;
  #native: NativeRingBufferHandle | undefined;
  #handler: BatchHandler;
  #paused = false;
  #iterating = false;
  #queue: RecordBatch[] = [];
  #wake: (() => void) | undefined;
  #reuseBuffer: boolean;
  #coalesceMs: number;
  #coalesceTimer: NodeJS.Timeout | undefined;
  #iteratorFull = false;
  /** @internal lets the owning BpfObject forget a closed reader */
  onClose: ((reader: RingBufferReader) => void) | undefined;

  constructor(map: BpfMap, onBatch: BatchHandler | undefined, options: RingBufferOptions = {}) {
    if (map.type !== 'ringbuf') throw invalidArg(`map ${map.name} is a ${map.type} map, not a ringbuf`);
    if (onBatch !== undefined && typeof onBatch !== 'function')
      throw invalidArg('onBatch must be a function');
    const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    checkInt('batchBytes', batchBytes, 4096, 1 << 30);
    const reuseBuffer = options.reuseBuffer ?? false;
    if (typeof reuseBuffer !== 'boolean') throw invalidArg('reuseBuffer must be a boolean');
    this.#reuseBuffer = reuseBuffer;
    const coalesceMs = options.coalesceMs ?? 0;
    checkInt('coalesceMs', coalesceMs, 0, 1000);
    this.#coalesceMs = coalesceMs;
    this.map = map;
    this.#handler = onBatch ?? (() => {});
    this.#native = new native.RingBufferHandle(
      map.fd,
      (slab, byteOffset, byteLength, offsets) => {
        this.#handler({
          buffer: slab.subarray(byteOffset, byteOffset + byteLength),
          offsets,
          count: offsets.length - 1,
        });
        if (this.#coalesceMs > 0 && byteLength < batchBytes / 2 && this.#native !== undefined)
          this.#coalesce();
      },
      batchBytes,
      reuseBuffer,
    );
    if (options.paused) this.pause();
  }

  /**
   * Polls exactly when nobody holds the reader back: not paused by the user, not over the async
   * iterator's high-water mark, not waiting out a coalescing interval.
   */
  #applyPolling(): void {
    if (this.#native === undefined) return;
    if (this.#paused || this.#iteratorFull || this.#coalesceTimer !== undefined) this.#native.pause();
    else this.#native.resume();
  }

  #coalesce(): void {
    if (this.#coalesceTimer !== undefined) return;
    this.#coalesceTimer = setTimeout(() => {
      this.#coalesceTimer = undefined;
      this.#applyPolling();
    }, this.#coalesceMs);
    this.#applyPolling();
  }

  #cancelCoalesce(): void {
    clearTimeout(this.#coalesceTimer);
    this.#coalesceTimer = undefined;
  }

  get closed(): boolean {
    return this.#native === undefined;
  }

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#handle();
    this.#paused = true;
    this.#applyPolling();
  }

  resume(): void {
    this.#handle();
    this.#paused = false;
    this.#cancelCoalesce();
    this.#applyPolling();
  }

  /** Delivers everything pending right now, synchronously; returns the record count. */
  drain(): number {
    return this.#handle().drain();
  }

  stats(): { records: number; batches: number; bytes: number } {
    return this.#handle().stats();
  }

  close(): void {
    if (this.#native === undefined) return;
    this.#cancelCoalesce();
    this.#native.close();
    this.#native = undefined;
    this.onClose?.(this);
    this.#wake?.();
  }

  /** Batches as they arrive; ends when the reader is closed. Replaces the onBatch handler. */
  async *[Symbol.asyncIterator](): AsyncIterator<RecordBatch> {
    if (this.#iterating) throw invalidArg('a ring buffer reader supports one iterator at a time');
    this.#iterating = true;
    const userPaused = this.#paused;
    this.#handler = (batch) => {
      // queued batches outlive the callback: a reused buffer must be copied first
      this.#queue.push(
        this.#reuseBuffer
          ? { buffer: Buffer.from(batch.buffer), offsets: batch.offsets.slice(), count: batch.count }
          : batch,
      );
      if (this.#queue.length >= ITERATOR_HIGH_WATER && !this.#iteratorFull) {
        this.#iteratorFull = true;
        this.#applyPolling();
      }
      this.#wake?.();
    };
    try {
      for (;;) {
        const batch = this.#queue.shift();
        if (batch !== undefined) {
          if (this.#queue.length < ITERATOR_HIGH_WATER / 2 && this.#iteratorFull && !this.closed) {
            this.#iteratorFull = false;
            this.#applyPolling();
          }
          yield batch;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    } finally {
      this.#iterating = false;
      this.#iteratorFull = false;
      if (userPaused && !this.closed) this.pause();
      else this.#applyPolling();
    }
  }

  #handle(): NativeRingBufferHandle {
    if (this.#native === undefined)
      throw new BpfError('ERR_CLOSED', 0, 'ringbuf', `ring buffer reader on ${this.map.name} is closed`);
    return this.#native;
  }
}
