// Merges per-node flow streams by time. Each node's stream is already in time order, so the
// merger holds one FIFO per node and emits the earliest head once every live node has one (an
// exact merge), or once that head has waited `windowMs` (follow mode: an idle node must not hold
// everyone back), or when the buffer is full. Hubble waits up to 1 s; Wirescope's window is tens
// of milliseconds.
import type { TimeMicros } from '@wirescope/flow';

export interface MergeItem {
  time: TimeMicros;
  bytes: Uint8Array;
  arrivedMs: number;
}

class Source {
  readonly items: MergeItem[] = [];
  head = 0;
  ended = false;
  /** One-shot: called once the source holds no more than `lowWater` items (see onceBelow). */
  lowWater = -1;
  onLow: (() => void) | undefined;
  get length(): number {
    return this.items.length - this.head;
  }
  peek(): MergeItem | undefined {
    return this.items[this.head];
  }
  shift(): MergeItem {
    const item = this.items[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }
}

export interface MergerOptions {
  /** How long the earliest item may wait for silent nodes; Infinity for an exact merge. */
  windowMs: number;
  /** Items held across all nodes before the earliest is emitted regardless. */
  capacity: number;
  emit: (bytes: Uint8Array) => boolean;
  /** Called when the consumer wants no more for now (emit returned false) / is ready again. */
  now?: () => number;
}

export class Merger {
  private readonly sources = new Map<string, Source>();
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private closed = false;

  constructor(private readonly opts: MergerOptions) {}

  private now(): number {
    return this.opts.now?.() ?? performance.now();
  }

  addSource(id: string): void {
    if (!this.sources.has(id)) this.sources.set(id, new Source());
    else this.sources.get(id)!.ended = false;
  }

  push(id: string, time: TimeMicros, bytes: Uint8Array): void {
    const s = this.sources.get(id);
    if (!s || this.closed) return;
    s.items.push({ time, bytes, arrivedMs: this.now() });
    this.buffered++;
    this.drain();
  }

  /** The node's stream is over (ended or failed): stop waiting for it. */
  endSource(id: string): void {
    const s = this.sources.get(id);
    if (!s) return;
    s.ended = true;
    this.drain();
  }

  get size(): number {
    return this.buffered;
  }

  sourceLength(id: string): number {
    return this.sources.get(id)?.length ?? 0;
  }

  /**
   * Calls `listener` once, as soon as source `id` holds at most `length` items (at once if it
   * already does): the relay resumes a paused upstream the moment there is room again.
   */
  onceBelow(id: string, length: number, listener: () => void): void {
    const s = this.sources.get(id);
    if (!s || s.length <= length) {
      listener();
      return;
    }
    s.lowWater = length;
    s.onLow = listener;
  }

  /** True when every source ended and everything was emitted. */
  get done(): boolean {
    if (this.buffered > 0) return false;
    for (const s of this.sources.values()) if (!s.ended) return false;
    return true;
  }

  /** The consumer is slow: hold items until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.drain();
  }

  close(): void {
    this.closed = true;
    for (const s of this.sources.values()) s.onLow = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Emits everything that is ready; schedules a re-check for items waiting on the window. */
  drain(): void {
    if (this.closed) return;
    let woken: (() => void)[] | undefined;
    while (!this.paused && this.buffered > 0) {
      let min: Source | undefined;
      let allHaveHead = true;
      for (const s of this.sources.values()) {
        const head = s.peek();
        if (!head) {
          if (!s.ended) allHaveHead = false;
          continue;
        }
        if (!min || head.time < min.peek()!.time) min = s;
      }
      if (!min) break;
      const head = min.peek()!;
      const waited = this.now() - head.arrivedMs;
      if (!allHaveHead && waited < this.opts.windowMs && this.buffered < this.opts.capacity) {
        this.schedule(this.opts.windowMs - waited);
        break;
      }
      min.shift();
      this.buffered--;
      if (min.onLow && min.length <= min.lowWater) {
        // called after the loop: a listener may push (and drain) synchronously
        (woken ??= []).push(min.onLow);
        min.onLow = undefined;
      }
      if (!this.opts.emit(head.bytes)) this.paused = true;
    }
    if (woken) for (const listener of woken) listener();
  }

  private schedule(ms: number): void {
    if (this.timer || !Number.isFinite(ms)) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.drain();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }
}
