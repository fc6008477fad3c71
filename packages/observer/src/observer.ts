// The per-node observer (Hubble's observer half of its parser/observer split): the one flow ring
// and handshake log of a node, the hooks every consumer registers (the local API's follow stream,
// metrics, policy verdicts, the UI), and the GetFlows/ServerStatus/GetNodes/GetNamespaces logic
// the gRPC server exposes.
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import {
  FilterError,
  GetFlowsResponseSchema,
  LostEventSource,
  NodeSchema,
  NodeState,
  ServerStatusResponseSchema,
  compileFilterPredicates,
  describeUnknownFields,
  flowTimeMicros,
  type FilterPredicates,
  type Flow,
  type FlowRecord,
  type HandshakeEvent,
  type GetFlowsRequest,
  type Namespace,
  type Node,
  type ServerStatusResponse,
  type TimeMicros,
} from '@wirescope/flow';
import { ObserverError } from './errors.js';
import { compileFieldMask } from './fieldmask.js';
import { HandshakeLog } from './handshakes.js';
import { NamespaceIndex } from './namespaces.js';
import { defaultFlowCapacity, FlowRing, type RingEntry } from './ring.js';
import { FlowStream, microsToTimestamp, toMicros, type FlowSink } from './stream.js';

export type { FlowSink };

/** @deprecated the ring's own name for it: defaultFlowCapacity */
export const defaultCapacity = defaultFlowCapacity;
/**
 * Flows a follower may fall behind by before it is sent lost_events: a ring's worth, so that a
 * burst the ring holds also fits a reader's queue (entries are references to the ring's shared
 * response bytes, ~8 B a slot while the reader keeps up).
 */
export const defaultClientQueue = 65536;

/** Events that never reached the ring or a client, by Hubble's LostEventSource. */
export interface LostNotice {
  source: LostEventSource;
  count: number;
  /** The CPU whose kernel ring buffer lost them, when the kernel says (-1: not known). */
  cpu: number;
}

/**
 * What a consumer of the node's flows registers with Observer.addHook (Hubble's OnDecodedFlow /
 * OnLostEvent hooks). Hooks run synchronously on the agent's hot path, in registration order, once
 * per event: keep them cheap (count, or queue and return); a hook that throws is reported once on
 * stderr and removed, so one broken consumer cannot stop the others or the ring.
 */
export interface ObserverHook {
  /**
   * Every flow, just after it entered the ring and before any GetFlows client sees it.
   * `entry.flow` is the flow.Flow message (built from the record on first use on the live path,
   * decoded when the producer pushed bytes: a hook that reads it pays for it), `entry.record` the
   * live path's FlowRecord, `entry.response` the encoded GetFlowsResponse every client shares,
   * `entry.time` its time in µs, `entry.seq` its ring position. Do not mutate either.
   */
  onFlow?(entry: RingEntry): void;
  /** Every WireGuard handshake message the node logged (the record the handshake log keeps). */
  onHandshake?(event: HandshakeEvent): void;
  /** Events lost before the ring (kernel ring buffer, undecodable) or by a slow client's queue. */
  onLost?(lost: LostNotice): void;
  /** A name for error messages. */
  name?: string;
}

export interface ObserverOptions {
  nodeName: string;
  clusterName?: string;
  /** Ring capacity, 2^n - 1 (default 4095; Hubble's maximum 65535 and beyond work). */
  capacity?: number;
  version?: string;
  /** Flows buffered per follow client while it is not reading; beyond that they count as lost. */
  clientQueue?: number;
  /** Handshake records kept for GetHandshakes (default 1024). */
  handshakeCapacity?: number;
  /** Names the node behind a peer's underlay address, for handshakes logged before the node list. */
  resolvePeer?: (peerAddress: string) => string | undefined;
  /** Address advertised in GetNodes. */
  address?: string;
  tls?: boolean;
}

export class Observer {
  readonly nodeName: string;
  readonly ring: FlowRing;
  /** The node's WireGuard handshake log (GetHandshakes, `wirescope handshakes`). */
  readonly handshakes: HandshakeLog;
  private hooks: ObserverHook[] = [];
  private readonly lostBySource = new Map<LostEventSource, number>();
  private readonly namespaceIndex: NamespaceIndex;
  private readonly startedAt = process.hrtime.bigint();
  private readonly streams = new Set<FlowStream>();
  private readonly rateBuckets = new Float64Array(61);
  private rateSecond = 0;
  private nowSecond = Math.floor(Date.now() / 1000);
  private rateClock: NodeJS.Timeout | undefined;
  private lostToSlowClients = 0;

  constructor(private readonly opts: ObserverOptions) {
    this.nodeName = opts.nodeName;
    this.ring = new FlowRing(opts.capacity ?? defaultFlowCapacity);
    this.namespaceIndex = new NamespaceIndex(opts.clusterName ?? '');
    this.handshakes = new HandshakeLog(opts.nodeName, opts.handshakeCapacity, opts.resolvePeer);
  }

  /** Registers a consumer of every flow, handshake and lost notice; returns its removal. */
  addHook(hook: ObserverHook): () => void {
    this.hooks = [...this.hooks, hook];
    return () => {
      this.hooks = this.hooks.filter((h) => h !== hook);
    };
  }

  /** Calls every hook's `name` with `arg`; a hook that throws is named on stderr and removed. */
  private runHooks<K extends 'onFlow' | 'onHandshake' | 'onLost'>(
    name: K,
    arg: Parameters<NonNullable<ObserverHook[K]>>[0],
  ): void {
    for (const hook of this.hooks) {
      const fn = hook[name] as ((value: typeof arg) => void) | undefined;
      if (!fn) continue;
      try {
        fn.call(hook, arg);
      } catch (err) {
        this.hookFailed(hook, err);
      }
    }
  }

  private hookFailed(hook: ObserverHook, err: unknown): void {
    this.hooks = this.hooks.filter((h) => h !== hook);
    process.stderr.write(
      `observer: hook ${hook.name ?? '(unnamed)'} threw and was removed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
  }

  /** Logs one handshake record and hands it to every hook. */
  pushHandshake(event: Partial<Omit<HandshakeEvent, '$typeName'>> | HandshakeEvent): HandshakeEvent {
    const record = this.handshakes.push(event);
    this.runHooks('onHandshake', record);
    return record;
  }

  /**
   * Events lost before they reached the ring (the kernel ring buffer's reservation failures,
   * records that could not be decoded): counted by source, handed to the hooks and told to every
   * follower as a lost_events message in order with its flows, as Hubble does.
   */
  reportLost(source: LostEventSource, count: number, cpu = -1): void {
    if (count <= 0) return;
    this.lostBySource.set(source, (this.lostBySource.get(source) ?? 0) + count);
    this.notifyLost({ source, count, cpu });
    const bytes = toBinary(
      GetFlowsResponseSchema,
      create(GetFlowsResponseSchema, {
        responseTypes: {
          case: 'lostEvents',
          value: { source, numEventsLost: BigInt(count), cpu: cpu >= 0 ? cpu : undefined },
        },
        nodeName: this.nodeName,
        time: microsToTimestamp(Date.now() * 1000),
      }),
    );
    for (const s of this.streams) s.notice(bytes);
  }

  private notifyLost(lost: LostNotice): void {
    this.runHooks('onLost', lost);
  }

  /** Lost events so far by source; OBSERVER_EVENTS_QUEUE includes what slow clients missed. */
  lostCounts(): Map<LostEventSource, number> {
    const out = new Map(this.lostBySource);
    const clients = this.lostEvents;
    if (clients > 0)
      out.set(
        LostEventSource.OBSERVER_EVENTS_QUEUE,
        (out.get(LostEventSource.OBSERVER_EVENTS_QUEUE) ?? 0) + clients,
      );
    return out;
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
    this.runHooks('onFlow', entry);
    for (const s of this.streams) s.offer(entry);
    // entries pushed as bytes are noted when GetNamespaces asks (decoding each costs more than the push)
    const record = entry.record;
    if (record !== undefined) {
      this.namespaceIndex.noteRecord(record, entry.seq);
      entry.namespacesNoted = true;
    } else if (entry.decoded) {
      this.namespaceIndex.noteFlow(entry.flow, entry.seq);
      entry.namespacesNoted = true;
    }
    entry.settle();
    this.ring.pack(entry);
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

  /**
   * Adds one flow record from the agent's enrich stage (the live path): its response bytes are
   * written straight from the record, clients' filters run on the record (compileFilterPredicates),
   * and a Flow message is built only for a hook or field mask that reads entry.flow. The node name
   * defaults to this node. Do not change the record afterwards.
   */
  pushRecord(record: FlowRecord): void {
    if (record.nodeName === '') record.nodeName = this.nodeName;
    this.deliver(this.ring.pushRecord(record));
    this.countRate(1);
  }

  /** Adds one flow message (flows enrich builds as messages: policy verdicts). The node name defaults to this node. */
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
    for (let seq = this.ring.oldestSeq; seq < this.ring.seen; seq++) {
      if (this.ring.isNoted(seq)) continue;
      this.namespaceIndex.noteFlow(this.ring.get(seq)!.flow, seq);
      this.ring.markNoted(seq);
    }
    return this.namespaceIndex.list(this.ring.oldestSeq);
  }

  /** Validates a request; throws ObserverError (INVALID_ARGUMENT) naming what is wrong. */
  static validate(req: GetFlowsRequest): {
    match: FilterPredicates | undefined;
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
    let match: FilterPredicates | undefined;
    try {
      match =
        req.whitelist.length || req.blacklist.length
          ? compileFilterPredicates(req.whitelist, req.blacklist)
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
      (count) => this.notifyLost({ source: LostEventSource.OBSERVER_EVENTS_QUEUE, count, cpu: -1 }),
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
