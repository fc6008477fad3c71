// The per-node gRPC server: Observer + Peer (+ Wirescope) on TCP and/or a unix socket.
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import {
  ChangeNotificationSchema,
  ChangeNotificationType,
  EncryptionStatusResponseSchema,
  GetHandshakesResponseSchema,
  GetNamespacesResponseSchema,
  GetNodesResponseSchema,
  encodeFlowBatchFrame,
  type ChangeNotification,
  type NodeEncryptionStatus,
  type NotifyRequest,
} from '@wirescope/flow';
import { ObserverError } from './errors.js';
import type { FlowSink, Observer } from './observer.js';
import { PeerRegistry, type PeerChange } from './peers.js';
import { HandshakeLog } from './handshakes.js';
import { addService, methods, rawResponseMethods } from './services.js';
import { serverCredentials, type ServerTlsFiles } from './tls.js';
import { bindAll, shutdown } from './listen.js';
import { ObserverHealth } from './health.js';

export interface ObserverServerOptions {
  observer: Observer;
  /** Peers announced through Peer.Notify (the agent feeds it from the cluster store). */
  peers?: PeerRegistry;
  /** Handshake events and encryption status for the Wirescope service. */
  handshakes?: HandshakeLog;
  encryptionStatus?: () => NodeEncryptionStatus[];
  /** e.g. ["127.0.0.1:4244", "unix:///run/wirescope/hubble.sock"]; port 0 picks a free port. */
  listen: string[];
  tls?: ServerTlsFiles;
  /** Framing of GetFlowBatches (tests use small batches). */
  flowBatchLimits?: FlowBatchLimits;
  /** false: GetFlowBatches answers UNIMPLEMENTED, as an agent without it does (benchmarks compare). */
  flowBatches?: boolean;
}

export function toStatusError(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof ObserverError) return { code: err.grpcStatus, details: err.message };
  return { code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

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

/** Batches are few and large: backpressure counts them, not the flows inside. */
const batchSinkLimits: GrpcSinkLimits = { inflightHigh: 16, inflightLow: 4 };

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

export class ObserverServer {
  readonly server = new grpc.Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  readonly peers: PeerRegistry;
  readonly handshakes: HandshakeLog;
  /** NOT_SERVING until start() has bound every address, and again from stop(). */
  readonly health = new ObserverHealth();
  private bound: string[] = [];

  constructor(private readonly opts: ObserverServerOptions) {
    this.health.addTo(this.server);
    this.peers = opts.peers ?? new PeerRegistry();
    this.handshakes = opts.handshakes ?? opts.observer.handshakes;
    const observer = opts.observer;
    addService(
      this.server,
      { ...methods.observer, ...rawResponseMethods.observer },
      {
        getFlows: (call) => {
          // headers at once tell a (re)connecting follower it is being served before any new flow
          if (call.request.follow) call.sendMetadata(new grpc.Metadata());
          observer.getFlows(call.request, grpcSink(call)).catch((err: unknown) => {
            call.emit('error', toStatusError(err));
          });
        },
        getNodes: (_call, cb) => {
          cb(null, create(GetNodesResponseSchema, { nodes: [observer.node()] }));
        },
        getNamespaces: (_call, cb) => {
          cb(null, create(GetNamespacesResponseSchema, { namespaces: observer.namespaces() }));
        },
        serverStatus: (_call, cb) => {
          cb(null, observer.status());
        },
        getAgentEvents: (call) => {
          call.emit('error', {
            code: grpc.status.UNIMPLEMENTED,
            details: 'GetAgentEvents is not served by Wirescope',
          });
        },
        getDebugEvents: (call) => {
          call.emit('error', {
            code: grpc.status.UNIMPLEMENTED,
            details: 'GetDebugEvents is not served by Wirescope',
          });
        },
      },
    );
    addService(this.server, methods.peer, { notify: (call) => this.notify(call) });
    addService(
      this.server,
      { ...methods.wirescope, ...rawResponseMethods.wirescope },
      {
        getFlowBatches: (call) => {
          if (this.opts.flowBatches === false) {
            call.emit('error', {
              code: grpc.status.UNIMPLEMENTED,
              details: 'GetFlowBatches is turned off on this agent',
            });
            return;
          }
          observer
            .getFlows(call.request, batchingSink(grpcSink(call, batchSinkLimits), this.opts.flowBatchLimits))
            .catch((err: unknown) => {
              call.emit('error', toStatusError(err));
            });
        },
        encryptionStatus: (_call, cb) => {
          cb(null, create(EncryptionStatusResponseSchema, { nodes: this.opts.encryptionStatus?.() ?? [] }));
        },
        getHandshakes: (call) => {
          const req = call.request;
          const send = (ev: Parameters<HandshakeLog['push']>[0]) => {
            if (req.peerNode && ev.peerNode !== req.peerNode) return;
            call.write(
              create(GetHandshakesResponseSchema, { handshake: ev, nodeName: ev.nodeName, time: ev.time }),
            );
          };
          const recent = this.handshakes.recent(Number(req.number) || undefined, req.peerNode || undefined);
          for (const ev of recent) send(ev);
          if (!req.follow) {
            call.end();
            return;
          }
          const off = this.handshakes.subscribe(send);
          call.on('cancelled', off);
          call.on('close', off);
        },
      },
    );
  }

  private notify(call: grpc.ServerWritableStream<NotifyRequest, ChangeNotification>): void {
    const toMessage = (c: PeerChange) =>
      create(ChangeNotificationSchema, {
        name: c.peer.name,
        address: c.peer.address,
        type: c.type,
        tls: c.peer.tlsServerName ? { serverName: c.peer.tlsServerName } : undefined,
      });
    for (const peer of this.peers.list())
      call.write(toMessage({ type: ChangeNotificationType.PEER_ADDED, peer }));
    const onChange = (c: PeerChange) => call.write(toMessage(c));
    this.peers.on('change', onChange);
    const off = () => this.peers.off('change', onChange);
    call.on('cancelled', off);
    call.on('close', off);
    call.on('error', off);
  }

  /** Binds every listen address; resolves to the bound addresses (ports resolved). */
  async start(): Promise<string[]> {
    this.bound.push(...(await bindAll(this.server, this.opts.listen, serverCredentials(this.opts.tls))));
    this.health.setServing(true);
    return [...this.bound];
  }

  get addresses(): string[] {
    return [...this.bound];
  }

  /** Stops accepting calls; open streams are cancelled after graceMs. */
  async stop(graceMs = 500): Promise<void> {
    this.health.setServing(false);
    await shutdown(this.server, graceMs);
  }
}
