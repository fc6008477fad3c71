// FlowSinks on grpc-js server streams: the observer's GetFlows writes go to HTTP/2 with
// backpressure from what the stream still holds, and GetFlowBatches packs them into FlowBatch
// frames.
import type * as grpc from '@grpc/grpc-js';
import { encodeFlowBatchFrame } from '@wirescope/flow';
import type { FlowSink } from './observer.js';

interface MessageSender {
  sendMessage(message: unknown, callback: (err?: unknown) => void): void;
  nextCall?: MessageSender;
  stream?: { bufferSize?: number };
}

/** Messages handed to HTTP/2 but not yet written out, per stream, before a client counts as slow. */
const inflightHigh = 512;
const inflightLow = 128;
/** Bytes HTTP/2 holds for a stream (its flow-control window is shut) before it counts as slow. */
const bufferedHigh = 512 * 1024;
const bufferedLow = 128 * 1024;
const drainPollMs = 5;

function http2StreamOf(call: MessageSender | undefined): { bufferSize?: number } | undefined {
  for (let c = call; c; c = c.nextCall) if (c.stream) return c.stream;
  return undefined;
}

/**
 * Adapts a grpc-js server stream to the observer's FlowSink. grpc-js's Writable sends one message
 * per event-loop turn (each _write waits for the HTTP/2 write callback); handing messages to the
 * call directly lets HTTP/2 batch them. Backpressure comes from what HTTP/2 still holds for the
 * stream (bytes it cannot send because the client is not reading) and messages in flight.
 */
export interface GrpcSinkLimits {
  /** Messages in flight at which the sink reports backpressure, and below which it drains. */
  inflightHigh: number;
  inflightLow: number;
  /**
   * Frame the messages of one event-loop turn into one HTTP/2 write (once grpc-js has sent the
   * headers) instead of a write per message: same gRPC messages on the wire, far less work each.
   */
  coalesce?: boolean;
}

/** Coalesced writes go out once they hold this many bytes, or when the producer yields. */
const coalesceBytes = 64 * 1024;

interface Http2Writable {
  bufferSize?: number;
  write?: (chunk: Buffer, callback: (err?: unknown) => void) => boolean;
}

/** The grpc-js call object that owns the HTTP/2 stream and knows whether headers went out. */
function baseCallOf(
  call: MessageSender | undefined,
): { stream?: Http2Writable; metadataSent?: boolean } | undefined {
  for (let c = call; c; c = c.nextCall)
    if (c.stream) return c as { stream?: Http2Writable; metadataSent?: boolean };
  return undefined;
}

/** A FlowSink on a gRPC stream that can also take messages already framed for the wire. */
export interface GrpcFlowSink extends FlowSink {
  /**
   * Writes one gRPC length-prefixed message straight to the HTTP/2 stream (no copy into a frame
   * of grpc-js's own); false as write() says it, undefined when it cannot (the response headers
   * have not gone out yet, or not a grpc-js stream it knows): then write the message instead.
   */
  writeFrame(frame: Buffer): boolean | undefined;
}

export function grpcSink(
  call: grpc.ServerWritableStream<unknown, Uint8Array>,
  limits: GrpcSinkLimits = { inflightHigh, inflightLow },
): GrpcFlowSink {
  let cancelled = false;
  let ended = false;
  let inflight = 0;
  let drainTimer: NodeJS.Timeout | undefined;
  const drainListeners: (() => void)[] = [];
  const cancelListeners: (() => void)[] = [];
  const fireDrain = () => {
    for (const l of drainListeners.splice(0)) l();
  };
  const cancel = () => {
    cancelled = true;
    if (drainTimer) clearInterval(drainTimer);
    drainTimer = undefined;
    for (const l of cancelListeners.splice(0)) l();
  };
  call.on('cancelled', cancel);
  call.on('close', cancel);
  call.on('error', () => {
    cancelled = true;
  });
  const inner = (call as unknown as { call?: MessageSender }).call;
  const direct = typeof inner?.sendMessage === 'function' ? inner : undefined;
  const h2 = http2StreamOf(direct);
  const base = baseCallOf(direct);
  const canWriteRaw = typeof base?.stream?.write === 'function';
  const canCoalesce = !!limits.coalesce && canWriteRaw;
  let frames: Uint8Array[] = [];
  let frameBytes = 0;
  let flushScheduled = false;
  const buffered = () => (h2?.bufferSize ?? 0) + frameBytes;
  if (!direct) call.on('drain', fireDrain);
  const sent = () => {
    inflight--;
    // a write completing is when room appears: drain at once rather than at the next poll
    if (drainTimer !== undefined && inflight <= limits.inflightLow && buffered() <= bufferedLow) {
      clearInterval(drainTimer);
      drainTimer = undefined;
      fireDrain();
    }
  };
  const flushFrames = () => {
    flushScheduled = false;
    if (frames.length === 0) return;
    const list = frames;
    const out = Buffer.allocUnsafe(frameBytes);
    frames = [];
    frameBytes = 0;
    if (cancelled) return;
    let pos = 0;
    for (const m of list) {
      // gRPC length-prefixed message: uncompressed flag, 32-bit big-endian length, bytes
      out[pos] = 0;
      out.writeUInt32BE(m.length, pos + 1);
      out.set(m, pos + 5);
      pos += 5 + m.length;
    }
    inflight++;
    base!.stream!.write!(out, sent);
  };
  const waitForDrain = () => {
    drainTimer ??= setInterval(() => {
      if (inflight <= limits.inflightLow && buffered() <= bufferedLow) {
        clearInterval(drainTimer);
        drainTimer = undefined;
        fireDrain();
      }
    }, drainPollMs);
  };
  const backpressure = () => {
    if (inflight >= limits.inflightHigh || buffered() >= bufferedHigh) {
      waitForDrain();
      return true;
    }
    return false;
  };
  return {
    writeFrame: (frame) => {
      if (cancelled || ended) return false;
      if (!direct || !canWriteRaw || base!.metadataSent !== true) return undefined;
      // coalesced messages written before this one go first
      flushFrames();
      inflight++;
      base!.stream!.write!(frame, sent);
      return !backpressure();
    },
    write: (bytes) => {
      if (cancelled || ended) return false;
      if (!direct) return call.write(bytes);
      if (canCoalesce && base!.metadataSent === true) {
        frames.push(bytes);
        frameBytes += 5 + bytes.length;
        if (frameBytes >= coalesceBytes) flushFrames();
        else if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flushFrames);
        }
      } else {
        inflight++;
        direct.sendMessage(bytes, sent);
      }
      return !backpressure();
    },
    onDrain: (listener) => {
      drainListeners.push(listener);
    },
    onCancel: (listener) => {
      if (cancelled) listener();
      else cancelListeners.push(listener);
    },
    end: () => {
      if (ended) return;
      ended = true;
      if (drainTimer) clearInterval(drainTimer);
      flushFrames();
      if (!cancelled) call.end();
    },
    get cancelled() {
      return cancelled;
    },
  };
}

export interface FlowBatchLimits {
  /** Responses per batch at most. */
  maxResponses: number;
  /** A batch is sent once it holds this many bytes. */
  maxBytes: number;
}

// Small enough to come from Buffer's pool where it is large (bench:relay sets 256 KiB) and to add
// little latency; bench:relay measured 32 KiB batches a little faster than 128 KiB ones.
export const defaultFlowBatchLimits: FlowBatchLimits = { maxResponses: 128, maxBytes: 32 * 1024 };

/**
 * A FlowSink that packs the responses written to it into FlowBatch messages for `inner`. A batch
 * goes out when full or, so that following clients see flows at once, as soon as the producer
 * yields the event loop (setImmediate after the first pending response).
 */
export function batchingSink(
  inner: FlowSink | GrpcFlowSink,
  limits: FlowBatchLimits = defaultFlowBatchLimits,
): FlowSink {
  const writeFrame = 'writeFrame' in inner ? inner.writeFrame : undefined;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  let blocked = false;
  let ended = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    if (inner.cancelled) return;
    const frame = encodeFlowBatchFrame(batch);
    const written = writeFrame?.(frame) ?? inner.write(frame.subarray(5));
    if (!written && !blocked) {
      blocked = true;
      inner.onDrain(() => {
        blocked = false;
      });
    }
  };
  return {
    write: (bytes) => {
      if (ended || inner.cancelled) return false;
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pending.length >= limits.maxResponses || pendingBytes >= limits.maxBytes) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return !blocked;
    },
    onDrain: (listener) => {
      // registered after our own unblocking listener, so it sees the sink writable again
      if (blocked) inner.onDrain(listener);
      else setImmediate(listener);
    },
    onCancel: (listener) => inner.onCancel(listener),
    end: () => {
      if (ended) return;
      ended = true;
      flush();
      inner.end();
    },
    get cancelled() {
      return inner.cancelled;
    },
  };
}
