// Live flows to browsers: one relay follow stream per distinct filter, shared by every socket that
// uses it; each flow is encoded once (a row's JSON text) for all of them. Each socket gets batches
// (every `batchMs`, or at once at `batchMax` flows) under credit-based flow control: at most
// `window` batches may be unacknowledged, so throughput is not one batch per round trip, and a
// browser that stops acknowledging stops getting batches. What piles up meanwhile is bounded
// (`queueMax`): beyond it flows are counted and reported as skipped, never queued without bound.
import type { GetFlowsResponse } from '@wirescope/flow';
import { flowRowText } from './flow-json.js';
import type { FlowFollow, RelayApi } from './relay-client.js';
import { filterKey, flowRequest } from './flow-request.js';
import type { UiError } from './errors.js';

export interface LiveLimits {
  batchMs: number;
  batchMax: number;
  queueMax: number;
  /** Batches a socket may have unacknowledged at once (its credit). */
  window: number;
}

export const defaultLiveLimits: LiveLimits = { batchMs: 50, batchMax: 500, queueMax: 5000, window: 4 };

/** One batch as a socket receives it (the `flows` event). */
export interface FlowBatch {
  /**
   * The rows, a JSON array as UTF-8 bytes (a Buffer here; the browser gets an ArrayBuffer): sent
   * as a binary attachment, socket.io neither re-encodes nor escapes the pre-encoded rows.
   */
  rows: Uint8Array | ArrayBuffer;
  /** Rows in `rows`. */
  count: number;
  /** Flows this socket missed since its last batch because it was not keeping up. */
  skipped: number;
  /** Events the relay or agents reported lost (LostEvent) since the last batch. */
  lost: number;
  /** Node status changes seen in the stream since the last batch. */
  nodeStatus: { state: string; nodes: string[]; message: string }[];
}

/** Decodes a batch's rows (server tests; the browser does the same with TextDecoder). */
export function batchRows(batch: FlowBatch): Record<string, unknown>[] {
  return JSON.parse(Buffer.from(batch.rows as Uint8Array).toString('utf8')) as Record<string, unknown>[];
}

/** Where a subscriber's batches go: the socket.io emit with an ack, or a test double. */
export interface BatchTarget {
  send(batch: FlowBatch, acknowledged: () => void): void;
  error(error: UiError): void;
}

class Subscriber {
  private queue: string[] = [];
  private skipped = 0;
  private lost = 0;
  private nodeStatus: FlowBatch['nodeStatus'] = [];
  private inFlight = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly target: BatchTarget,
    private readonly limits: LiveLimits,
  ) {}

  offer(row: string): void {
    if (this.queue.length >= this.limits.queueMax) this.skipped++;
    else this.queue.push(row);
    if (this.queue.length >= this.limits.batchMax) this.flush();
    else this.schedule();
  }

  addLost(n: number): void {
    this.lost += n;
    this.schedule();
  }

  addNodeStatus(s: FlowBatch['nodeStatus'][number]): void {
    this.nodeStatus.push(s);
    this.schedule();
  }

  private pending(): boolean {
    return this.queue.length > 0 || this.skipped > 0 || this.lost > 0 || this.nodeStatus.length > 0;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.limits.batchMs);
  }

  private flush(): void {
    // out of credit: an acknowledgement sends what gathered meanwhile
    if (this.closed || this.inFlight >= this.limits.window || !this.pending()) return;
    const rows = this.queue.splice(0, this.limits.batchMax);
    const batch: FlowBatch = {
      rows: Buffer.from(`[${rows.join(',')}]`),
      count: rows.length,
      skipped: this.skipped,
      lost: this.lost,
      nodeStatus: this.nodeStatus,
    };
    this.skipped = this.lost = 0;
    this.nodeStatus = [];
    this.inFlight++;
    this.target.send(batch, () => {
      this.inFlight--;
      if (this.queue.length >= this.limits.batchMax) this.flush();
      else if (this.pending()) this.schedule();
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}

interface Stream {
  follow: FlowFollow;
  subscribers: Set<Subscriber>;
}

const nodeStateNames = [
  'UNKNOWN_NODE_STATE',
  'NODE_CONNECTED',
  'NODE_UNAVAILABLE',
  'NODE_GONE',
  'NODE_ERROR',
];

export class LiveHub {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly relay: RelayApi,
    private readonly limits: LiveLimits = defaultLiveLimits,
  ) {}

  /** Relay streams open now (one per distinct filter). */
  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * Subscribes `target` to the flows matching `filters` (throws UiError for a bad filter);
   * returns the unsubscribe.
   */
  subscribe(filters: readonly string[], target: BatchTarget): () => void {
    const request = flowRequest({ filters, follow: true });
    const key = filterKey(filters);
    const sub = new Subscriber(target, this.limits);
    let stream = this.streams.get(key);
    if (!stream) {
      const subscribers = new Set<Subscriber>();
      const follow = this.relay.follow(request, {
        onResponse: (r) => this.dispatch(r, subscribers),
        // encoded once for every socket of this filter
        onFlowRow: (row) => {
          for (const s of subscribers) s.offer(row);
        },
        onEnd: (error) => {
          if (this.streams.get(key)?.subscribers === subscribers) this.streams.delete(key);
          for (const s of subscribers) {
            s.close();
            if (error) s.target.error(error);
          }
        },
      });
      stream = { follow, subscribers };
      this.streams.set(key, stream);
    }
    const active = stream;
    active.subscribers.add(sub);
    return () => {
      sub.close();
      active.subscribers.delete(sub);
      if (active.subscribers.size === 0 && this.streams.get(key) === active) {
        this.streams.delete(key);
        active.follow.cancel();
      }
    };
  }

  private dispatch(r: GetFlowsResponse, subscribers: Set<Subscriber>): void {
    const t = r.responseTypes;
    if (t.case === 'flow') {
      // encoded once for every socket of this filter
      const row = flowRowText(t.value);
      for (const s of subscribers) s.offer(row);
    } else if (t.case === 'lostEvents') {
      for (const s of subscribers) s.addLost(Number(t.value.numEventsLost));
    } else if (t.case === 'nodeStatus') {
      const status = {
        state: nodeStateNames[t.value.stateChange] ?? String(t.value.stateChange),
        nodes: t.value.nodeNames,
        message: t.value.message,
      };
      for (const s of subscribers) s.addNodeStatus(status);
    }
  }

  close(): void {
    for (const s of this.streams.values()) s.follow.cancel();
    this.streams.clear();
  }
}
