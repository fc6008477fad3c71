/**
 * The agent's side of its one observer: decoded events -> enriched flows and handshake records,
 * pushed into @wirescope/observer's Observer (the node's only flow ring and handshake log, which
 * the gRPC server, the local API, metrics and policy verdicts all read through its hooks), with
 * the parser's seen/lost counters.
 */
import {
  LostEventSource,
  type Flow,
  type FlowRecord,
  type HandshakeEvent as HandshakeRecord,
} from '@wirescope/flow';
import type { RecordBatchLike } from '@wirescope/events';
import { Observer, defaultFlowCapacity } from '@wirescope/observer';
import { FlowDecoder } from './decode.js';
import { HandshakeTracker, dropToRecord, traceToRecord, type EnrichContext } from './enrich.js';
import { policyVerdictToFlow } from '../policy/verdict-flow.js';

/**
 * Kernel drop reasons that are bookkeeping, not lost traffic (a closing socket purging its
 * queues): counted, not turned into DROPPED flows.
 */
export const BENIGN_KERNEL_DROPS: ReadonlySet<string> = new Set(['QUEUE_PURGE', 'SOCKET_CLOSE', 'TCP_CLOSE']);

export type ObservedItem = { kind: 'flow'; flow: Flow } | { kind: 'handshake'; handshake: HandshakeRecord };

export interface ObserverCounters {
  flowsSeen: number;
  flowsInRing: number;
  capacity: number;
  handshakesSeen: number;
  /** records that could not be decoded plus kernel ring-buffer reservation failures */
  lost: number;
  decoded: number;
  undecodable: number;
  kernelLost: number;
  benignKernelDrops: number;
}

/** A ring entry whose flow is decoded when read (each read decodes again: read it once). */
export interface LazyFlow {
  readonly flow: Flow;
}

export class FlowObserver {
  /** The node's one observer: flow ring, handshake log, hooks, GetFlows. */
  readonly observer: Observer;
  private readonly decoder = new FlowDecoder();
  readonly tracker = new HandshakeTracker();
  private kernelLost = 0;
  private handshakesSeen = 0;
  /** Events decoded but not turned into a flow (an enrich failure): never silently gone. */
  private enrichFailed = 0;
  benignKernelDrops = 0;

  /** Flow ring views for the local API, read from the one ring (newest last). */
  readonly flows = {
    last: (n: number): Flow[] => this.observer.ring.last(n).map((entry) => entry.flow),
    /** The same flows, each decoded only when its `flow` is read: a large backlog costs nothing up front. */
    lastLazy: (n: number): readonly LazyFlow[] => this.observer.ring.last(n),
  };

  constructor(
    private readonly ctx: EnrichContext,
    capacity = defaultFlowCapacity,
  ) {
    this.observer = new Observer({
      nodeName: ctx.nodeName,
      capacity,
      resolvePeer: (address) => this.peerNodeName(address),
    });
  }

  onBatch(batch: RecordBatchLike): void {
    // One ring buffer is shared by every CPU: records are committed in reservation order, which
    // can trail their timestamps by a few µs. Sorting each wake-up's batch keeps the flow ring
    // (and so the relay's merge, which assumes each node's stream is in time order) sorted.
    const events = this.decoder.decodeBatch(batch);
    events.sort((a, b) =>
      a.header.ktimeNs < b.header.ktimeNs ? -1 : a.header.ktimeNs > b.header.ktimeNs ? 1 : 0,
    );
    for (const event of events) {
      // traces and drops go in as flow records (written to wire bytes without a message);
      // policy verdicts, which carry policy messages, as Flow messages
      let record: FlowRecord | undefined;
      let flow: Flow | undefined;
      try {
        if (event.kind === 'handshake') {
          this.observer.pushHandshake(this.tracker.toRecord(this.ctx, event));
          this.handshakesSeen++;
          continue;
        }
        if (
          event.kind === 'drop' &&
          event.kernel &&
          BENIGN_KERNEL_DROPS.has(this.ctx.kernelDropReasonName(event.reason) ?? '')
        ) {
          this.benignKernelDrops++;
          continue;
        }
        if (event.kind === 'policy-verdict') flow = policyVerdictToFlow(this.ctx, event);
        else record = event.kind === 'trace' ? traceToRecord(this.ctx, event) : dropToRecord(this.ctx, event);
      } catch {
        this.enrichFailed++;
        continue;
      }
      if (record) this.observer.pushRecord(record);
      else this.observer.push(flow!);
    }
  }

  /**
   * The kernel's running total of ring-buffer reservation failures (summed over CPUs): what is
   * new since the last reading goes to the observer as PERF_EVENT_RING_BUFFER lost events.
   */
  setKernelLost(total: number): void {
    if (total > this.kernelLost)
      this.observer.reportLost(LostEventSource.PERF_EVENT_RING_BUFFER, total - this.kernelLost);
    this.kernelLost = total;
  }

  /** Handshake records, with the peer filled in when the node list arrived after the message. */
  lastHandshakes(n: number): HandshakeRecord[] {
    return n === 0 ? [] : this.observer.handshakes.recent(n);
  }

  /** The node behind an underlay address, for handshakes recorded before the node list arrived. */
  peerNodeName(underlayAddress: string): string | undefined {
    return this.ctx.nodeByUnderlayIP(underlayAddress)?.name;
  }

  /** Every flow and handshake as it is observed (a hook on the one observer); returns the removal. */
  subscribe(fn: (item: ObservedItem) => void): () => void {
    return this.observer.addHook({
      onFlow: (entry) => fn({ kind: 'flow', flow: entry.flow }),
      onHandshake: (handshake) => fn({ kind: 'handshake', handshake }),
    });
  }

  counters(): ObserverCounters {
    const d = this.decoder.counters();
    const ring = this.observer.ring;
    return {
      flowsSeen: ring.seen,
      flowsInRing: ring.size,
      capacity: ring.capacity,
      handshakesSeen: this.handshakesSeen,
      lost: d.skipped + this.kernelLost + this.enrichFailed,
      decoded: d.decoded,
      undecodable: d.skipped,
      kernelLost: this.kernelLost,
      benignKernelDrops: this.benignKernelDrops,
    };
  }
}
