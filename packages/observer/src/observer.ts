// The per-node observer: the flow ring the agent pushes into, and the GetFlows/ServerStatus/
// GetNodes/GetNamespaces logic the gRPC server exposes.
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  FilterError,
  GetFlowsResponseSchema,
  LostEventSource,
  NamespaceSchema,
  NodeSchema,
  NodeState,
  ServerStatusResponseSchema,
  compileFilters,
  describeUnknownFields,
  flowTimeMicros,
  type Flow,
  type FlowPredicate,
  type GetFlowsRequest,
  type Namespace,
  type Node,
  type ServerStatusResponse,
  type TimeMicros,
} from '@wirescope/flow';
import { ObserverError } from './errors.js';
import { compileFieldMask } from './fieldmask.js';
import { FlowRing, type RingEntry } from './ring.js';

export const defaultCapacity = 4095;
export const defaultClientQueue = 8192;

export interface ObserverOptions {
  nodeName: string;
  clusterName?: string;
  /** Ring capacity, 2^n - 1 (default 4095; Hubble's maximum 65535 and beyond work). */
  capacity?: number;
  version?: string;
  /** Flows buffered per follow client while it is not reading; beyond that they count as lost. */
  clientQueue?: number;
  /** Address advertised in GetNodes. */
  address?: string;
  tls?: boolean;
}

/** Where a GetFlows call writes: the gRPC stream, or a test double. */
export interface FlowSink {
  /** Returns false when the consumer is not keeping up; wait for onDrain before writing more. */
  write(bytes: Uint8Array): boolean;
  /** Calls `listener` once, at the next drain. */
  onDrain(listener: () => void): void;
  /** Calls `listener` once when the client goes away (at once if it already has). */
  onCancel(listener: () => void): void;
  end(): void;
  readonly cancelled: boolean;
}

function toMicros(ts: Timestamp | undefined): TimeMicros | undefined {
  if (!ts) return undefined;
  return Number(ts.seconds) * 1e6 + Math.floor(ts.nanos / 1000);
}

function microsToTimestamp(micros: TimeMicros): Timestamp {
  const seconds = Math.floor(micros / 1e6);
  return {
    $typeName: 'google.protobuf.Timestamp',
    seconds: BigInt(seconds),
    nanos: (micros - seconds * 1e6) * 1000,
  };
}

const sendFlowsPerTick = 256;

/** One GetFlows call: filters, the live queue and lost-event accounting for one client. */
class FlowStream {
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;
  private blocked = false;
  private live = false;
  private lost = 0;
  private finished = false;
  lostTotal = 0;

  constructor(
    private readonly sink: FlowSink,
    private readonly match: FlowPredicate | undefined,
    private readonly mask: ((flow: Flow) => Flow) | undefined,
    private readonly until: TimeMicros | undefined,
    private readonly limit: number,
    private readonly nodeName: string,
    private readonly onFinish: () => void,
  ) {}

  private block(): void {
    this.blocked = true;
    this.sink.onDrain(() => {
      this.blocked = false;
      this.flush();
    });
  }

  private encode(entry: RingEntry): Uint8Array {
    if (!this.mask) return entry.response;
    const masked = this.mask(entry.flow);
    return toBinary(
      GetFlowsResponseSchema,
      create(GetFlowsResponseSchema, {
        responseTypes: { case: 'flow', value: masked },
        nodeName: this.nodeName,
        time: microsToTimestamp(entry.time),
      }),
    );
  }

  /** Flows waiting for this client (plus one while its transport is full). */
  get pending(): number {
    return this.queue.length - this.queueHead + (this.blocked ? 1 : 0);
  }

  matches(entry: RingEntry): boolean {
    return !this.match || this.match(entry.flow);
  }

  /** A live flow from push(). */
  offer(entry: RingEntry): void {
    if (this.finished) return;
    if (this.until !== undefined && entry.time > this.until) {
      this.finish();
      return;
    }
    if (!this.matches(entry)) return;
    const bytes = this.encode(entry);
    if (this.live && !this.blocked && this.queueHead === this.queue.length) {
      if (!this.sink.write(bytes)) this.block();
      return;
    }
    if (this.queue.length - this.queueHead >= this.limit) {
      this.lost++;
      this.lostTotal++;
      return;
    }
    if (this.lost > 0) {
      this.queue.push(this.lostEvent(this.lost));
      this.lost = 0;
    }
    this.queue.push(bytes);
  }

  /** A node event (not a flow): every follower gets it, in order with its flows, whatever its filters. */
  notice(bytes: Uint8Array): void {
    if (this.finished) return;
    if (this.live && !this.blocked && this.queueHead === this.queue.length) {
      if (!this.sink.write(bytes)) this.block();
      return;
    }
    this.queue.push(bytes);
  }

  private lostEvent(count: number): Uint8Array {
    return toBinary(
      GetFlowsResponseSchema,
      create(GetFlowsResponseSchema, {
        responseTypes: {
          case: 'lostEvents',
          value: { source: LostEventSource.OBSERVER_EVENTS_QUEUE, numEventsLost: BigInt(count) },
        },
        nodeName: this.nodeName,
        time: microsToTimestamp(Date.now() * 1000),
      }),
    );
  }

  /** Writes history without dropping any of it: waits for the client between bursts. */
  async replay(entries: RingEntry[]): Promise<void> {
    let sinceYield = 0;
    let wake: (() => void) | undefined;
    this.sink.onCancel(() => wake?.());
    for (const entry of entries) {
      if (this.sink.cancelled || this.finished) return;
      if (!this.sink.write(this.encode(entry))) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          this.sink.onDrain(resolve);
        });
      } else if (++sinceYield >= sendFlowsPerTick) {
        // let pushes and other clients run between bursts
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  goLive(): void {
    this.live = true;
    this.flush();
  }

  private flush(): void {
    if (!this.live || this.finished) return;
    for (;;) {
      while (!this.blocked && this.queueHead < this.queue.length) {
        const bytes = this.queue[this.queueHead++]!;
        if (!this.sink.write(bytes)) this.block();
      }
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      }
      if (this.blocked || this.lost === 0) return;
      // the queue went out and flows overflowed meanwhile: say so before anything newer
      this.queue.push(this.lostEvent(this.lost));
      this.lost = 0;
    }
  }

  finish(): void {
    if (this.finished) return;
    this.flush();
    this.finished = true;
    this.onFinish();
    this.sink.end();
  }
}

export class Observer {
  readonly nodeName: string;
  readonly ring: FlowRing;
  private readonly startedAt = process.hrtime.bigint();
  private readonly streams = new Set<FlowStream>();
  private readonly rateBuckets = new Float64Array(61);
  private rateSecond = 0;
  private nowSecond = Math.floor(Date.now() / 1000);
  private rateClock: NodeJS.Timeout | undefined;
  private lostToSlowClients = 0;

  constructor(private readonly opts: ObserverOptions) {
    this.nodeName = opts.nodeName;
    this.ring = new FlowRing(opts.capacity ?? defaultCapacity);
  }

  get version(): string {
    return this.opts.version ?? 'wirescope-0.1.0';
  }

  /** Flows dropped for clients that did not keep up, across all clients so far. */
  get lostEvents(): number {
    let live = 0;
    for (const s of this.streams) live += s.lostTotal;
    return this.lostToSlowClients + live;
  }

  /** The longest queue of any follow client: a replaying producer can pace itself on it. */
  get backlog(): number {
    let max = 0;
    for (const s of this.streams) max = Math.max(max, s.pending);
    return max;
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  private countRate(n: number): void {
    // a clock read per flow showed up in profiles; a quarter-second tick is plenty for a rate
    this.rateClock ??= setInterval(() => {
      this.nowSecond = Math.floor(Date.now() / 1000);
    }, 250).unref();
    const second = this.nowSecond;
    if (second !== this.rateSecond) {
      const gap = Math.min(second - this.rateSecond, 61);
      for (let i = 1; i <= gap; i++) this.rateBuckets[(this.rateSecond + i) % 61] = 0;
      this.rateSecond = second;
    }
    this.rateBuckets[second % 61]! += n;
  }

  private deliver(entry: RingEntry): void {
    for (const s of this.streams) s.offer(entry);
  }

  /**
   * Tells every follower about this node itself, as a node status event in the flow stream (the
   * relay passes it through): e.g. NODE_ERROR while its encryption device is down.
   */
  notifyNodeStatus(state: NodeState, message: string): void {
    const bytes = toBinary(
      GetFlowsResponseSchema,
      create(GetFlowsResponseSchema, {
        responseTypes: {
          case: 'nodeStatus',
          value: { stateChange: state, nodeNames: [this.nodeName], message },
        },
        nodeName: this.nodeName,
        time: microsToTimestamp(Date.now() * 1000),
      }),
    );
    for (const s of this.streams) s.notice(bytes);
  }

  /** Adds one flow from the agent's enrich stage. The node name defaults to this node. */
  push(flow: Flow): void {
    if (!flow.nodeName) flow.nodeName = this.nodeName;
    const time = toMicros(flow.time) ?? Date.now() * 1000;
    this.deliver(this.ring.push(time, flow.nodeName, flow, undefined));
    this.countRate(1);
  }

  pushBatch(flows: Flow[]): void {
    for (const f of flows) {
      if (!f.nodeName) f.nodeName = this.nodeName;
      this.deliver(this.ring.push(toMicros(f.time) ?? Date.now() * 1000, f.nodeName, f, undefined));
    }
    this.countRate(flows.length);
  }

  /** Adds an already-encoded flow.Flow (a replayed recording); decoded only if a filter needs it. */
  pushEncoded(bytes: Uint8Array, timeMicros?: TimeMicros): void {
    this.deliver(this.ring.push(timeMicros ?? flowTimeMicros(bytes), this.nodeName, undefined, bytes));
    this.countRate(1);
  }

  /**
   * Adds a recorded flow (encoded without its time, see encodeFlowWithoutTime) as if it were seen
   * at `timeMicros`: replaying recordings for demos and benchmarks, never live data.
   */
  pushReplayed(flowBytesWithoutTime: Uint8Array, timeMicros: TimeMicros): void {
    this.deliver(this.ring.push(timeMicros, this.nodeName, undefined, undefined, flowBytesWithoutTime));
    this.countRate(1);
  }

  uptimeNs(): bigint {
    return process.hrtime.bigint() - this.startedAt;
  }

  flowsRate(): number {
    this.nowSecond = Math.floor(Date.now() / 1000);
    this.countRate(0);
    let sum = 0;
    const now = this.rateSecond;
    for (let i = 1; i <= 60; i++) sum += this.rateBuckets[(now - i + 61) % 61]!;
    // the current second is still filling: count it too but average over what has elapsed
    const elapsed = Math.min(60, Number(this.uptimeNs() / 1_000_000_000n));
    return (sum + this.rateBuckets[now % 61]!) / Math.max(1, elapsed + 1);
  }

  status(): ServerStatusResponse {
    return create(ServerStatusResponseSchema, {
      numFlows: BigInt(this.ring.size),
      maxFlows: BigInt(this.ring.capacity),
      seenFlows: BigInt(this.ring.seen),
      uptimeNs: this.uptimeNs(),
      version: this.version,
      flowsRate: this.flowsRate(),
    });
  }

  node(): Node {
    return create(NodeSchema, {
      name: this.nodeName,
      version: this.version,
      address: this.opts.address ?? '',
      state: NodeState.NODE_CONNECTED,
      tls: { enabled: !!this.opts.tls, serverName: '' },
      uptimeNs: this.uptimeNs(),
      numFlows: BigInt(this.ring.size),
      maxFlows: BigInt(this.ring.capacity),
      seenFlows: BigInt(this.ring.seen),
    });
  }

  /** Namespaces of the endpoints in the ring, sorted. */
  namespaces(): Namespace[] {
    const seen = new Map<string, Namespace>();
    for (const entry of this.ring.snapshot()) {
      for (const ep of [entry.flow.source, entry.flow.destination]) {
        if (!ep?.namespace) continue;
        const cluster = ep.clusterName || this.opts.clusterName || '';
        const key = `${cluster}/${ep.namespace}`;
        if (!seen.has(key)) seen.set(key, create(NamespaceSchema, { cluster, namespace: ep.namespace }));
      }
    }
    return [...seen.values()].sort(
      (a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace),
    );
  }

  /** Validates a request; throws ObserverError (INVALID_ARGUMENT) naming what is wrong. */
  static validate(req: GetFlowsRequest): {
    match: FlowPredicate | undefined;
    mask: ((f: Flow) => Flow) | undefined;
  } {
    const unknown = describeUnknownFields(req.$unknown);
    if (unknown)
      throw new ObserverError('INVALID_REQUEST', `GetFlowsRequest ${unknown}: not supported by Wirescope`);
    if (req.first && req.follow) {
      throw new ObserverError(
        'INVALID_REQUEST',
        'first cannot be combined with follow (first reads the oldest flows, follow waits for new ones)',
      );
    }
    const since = toMicros(req.since);
    const until = toMicros(req.until);
    if (since !== undefined && until !== undefined && since > until) {
      throw new ObserverError(
        'INVALID_REQUEST',
        `since (${new Date(timestampMs(req.since!)).toISOString()}) is after until (${new Date(timestampMs(req.until!)).toISOString()})`,
      );
    }
    let match: FlowPredicate | undefined;
    try {
      match =
        req.whitelist.length || req.blacklist.length
          ? compileFilters(req.whitelist, req.blacklist)
          : undefined;
    } catch (err) {
      if (err instanceof FilterError) throw new ObserverError('INVALID_FILTER', err.message);
      throw err;
    }
    // the stock hubble CLI sends --experimental-field-mask in the deprecated experimental field
    const paths = req.fieldMask?.paths.length
      ? req.fieldMask.paths
      : (req.experimental?.fieldMask?.paths ?? []);
    return { match, mask: compileFieldMask(paths) };
  }

  /** Streams flows for one GetFlows call into `sink`. Throws ObserverError for invalid requests. */
  async getFlows(req: GetFlowsRequest, sink: FlowSink): Promise<void> {
    const { match, mask } = Observer.validate(req);
    const since = toMicros(req.since);
    const until = toMicros(req.until);
    const stream = new FlowStream(
      sink,
      match,
      mask,
      until,
      this.opts.clientQueue ?? defaultClientQueue,
      this.nodeName,
      () => {
        this.lostToSlowClients += stream.lostTotal;
        stream.lostTotal = 0;
        this.streams.delete(stream);
      },
    );
    // Subscribe before taking the snapshot so no flow falls between history and live.
    if (req.follow) this.streams.add(stream);
    sink.onCancel(() => stream.finish());
    const history = this.selectHistory(stream, req, since, until);
    await stream.replay(history);
    if (sink.cancelled) return;
    if (!req.follow || (until !== undefined && until < Date.now() * 1000)) {
      stream.finish();
      return;
    }
    stream.goLive();
  }

  private selectHistory(
    stream: FlowStream,
    req: GetFlowsRequest,
    since?: TimeMicros,
    until?: TimeMicros,
  ): RingEntry[] {
    const number = Number(req.number);
    if (number === 0 && req.follow && since === undefined) return [];
    const limit = number === 0 ? Infinity : number;
    const all = this.ring.snapshot();
    const inWindow = (e: RingEntry) =>
      (since === undefined || e.time >= since) && (until === undefined || e.time <= until);
    const out: RingEntry[] = [];
    if (req.first) {
      for (const e of all) {
        if (out.length >= limit) break;
        if (inWindow(e) && stream.matches(e)) out.push(e);
      }
      return out;
    }
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const e = all[i]!;
      if (inWindow(e) && stream.matches(e)) out.push(e);
    }
    return out.reverse();
  }
}

export { microsToTimestamp, toMicros };
