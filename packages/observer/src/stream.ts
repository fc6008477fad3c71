// One GetFlows call's delivery: its filters, its live queue and its lost-event accounting.
import { create, toBinary } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import {
  GetFlowsResponseSchema,
  LostEventSource,
  type FilterPredicates,
  type Flow,
  type TimeMicros,
} from '@wirescope/flow';
import type { RingEntry } from './ring.js';

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

export function toMicros(ts: Timestamp | undefined): TimeMicros | undefined {
  if (!ts) return undefined;
  return Number(ts.seconds) * 1e6 + Math.floor(ts.nanos / 1000);
}

export function microsToTimestamp(micros: TimeMicros): Timestamp {
  const seconds = Math.floor(micros / 1e6);
  return {
    $typeName: 'google.protobuf.Timestamp',
    seconds: BigInt(seconds),
    nanos: (micros - seconds * 1e6) * 1000,
  };
}

const sendFlowsPerTick = 256;

/** One GetFlows call: filters, the live queue and lost-event accounting for one client. */
export class FlowStream {
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;
  private blocked = false;
  private live = false;
  private lost = 0;
  private finished = false;
  lostTotal = 0;

  constructor(
    private readonly sink: FlowSink,
    private readonly match: FilterPredicates | undefined,
    private readonly mask: ((flow: Flow) => Flow) | undefined,
    private readonly until: TimeMicros | undefined,
    private readonly limit: number,
    private readonly nodeName: string,
    private readonly onFinish: () => void,
    /** Flows this client missed because its queue was full (told to the observer's hooks). */
    private readonly onLost: (count: number) => void,
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

  /** On the record while the entry has one (the live path: no Flow built), else on the Flow. */
  matches(entry: RingEntry): boolean {
    if (!this.match) return true;
    const record = entry.record;
    return record !== undefined ? this.match.record(record) : this.match.flow(entry.flow);
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
      this.onLost(1);
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
