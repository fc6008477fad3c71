/**
 * The observer half: decoded events -> enriched flows and handshake records in rings, with
 * seen/lost counters and live subscribers (the follow stream). Until the Hubble gRPC server of
 * @wirescope/observer is mounted on the agent, the local API serves these rings.
 */
import type { Flow, HandshakeEvent as HandshakeRecord } from '@wirescope/flow';
import type { RecordBatchLike } from '@wirescope/events';
import { FlowDecoder } from './decode.js';
import { HandshakeTracker, dropToFlow, traceToFlow, type EnrichContext } from './enrich.js';
import { DEFAULT_RING_CAPACITY, Ring } from './ring.js';
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

export class FlowObserver {
  readonly flows: Ring<Flow>;
  readonly handshakes: Ring<HandshakeRecord>;
  private readonly decoder = new FlowDecoder();
  readonly tracker = new HandshakeTracker();
  private readonly subscribers = new Set<(item: ObservedItem) => void>();
  private kernelLost = 0;
  benignKernelDrops = 0;

  constructor(
    private readonly ctx: EnrichContext,
    capacity = DEFAULT_RING_CAPACITY,
  ) {
    this.flows = new Ring<Flow>(capacity);
    this.handshakes = new Ring<HandshakeRecord>(Math.min(capacity, 4095));
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
      let item: ObservedItem;
      try {
        if (event.kind === 'handshake') {
          const handshake = this.tracker.toRecord(this.ctx, event);
          this.handshakes.push(handshake);
          item = { kind: 'handshake', handshake };
        } else if (
          event.kind === 'drop' &&
          event.kernel &&
          BENIGN_KERNEL_DROPS.has(this.ctx.kernelDropReasonName(event.reason) ?? '')
        ) {
          this.benignKernelDrops++;
          continue;
        } else {
          const flow =
            event.kind === 'trace'
              ? traceToFlow(this.ctx, event)
              : event.kind === 'policy-verdict'
                ? policyVerdictToFlow(this.ctx, event)
                : dropToFlow(this.ctx, event);
          this.flows.push(flow);
          item = { kind: 'flow', flow };
        }
      } catch {
        this.flows.lost++;
        continue;
      }
      for (const fn of this.subscribers) fn(item);
    }
  }

  /** The kernel's running total of ring-buffer reservation failures (summed over CPUs). */
  setKernelLost(total: number): void {
    this.kernelLost = total;
  }

  /** Handshake records, with the peer filled in when the node list arrived after the message. */
  lastHandshakes(n: number): HandshakeRecord[] {
    const list = this.handshakes.last(n);
    for (const h of list) {
      if (!h.peerNode) h.peerNode = this.peerNodeName(h.peerAddress) ?? '';
    }
    return list;
  }

  /** The node behind an underlay address, for handshakes recorded before the node list arrived. */
  peerNodeName(underlayAddress: string): string | undefined {
    return this.ctx.nodeByUnderlayIP(underlayAddress)?.name;
  }

  subscribe(fn: (item: ObservedItem) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  counters(): ObserverCounters {
    const d = this.decoder.counters();
    return {
      flowsSeen: this.flows.seen,
      flowsInRing: this.flows.size,
      capacity: this.flows.capacity,
      handshakesSeen: this.handshakes.seen,
      lost: d.skipped + this.kernelLost + this.flows.lost,
      decoded: d.decoded,
      undecodable: d.skipped,
      kernelLost: this.kernelLost,
      benignKernelDrops: this.benignKernelDrops,
    };
  }
}
