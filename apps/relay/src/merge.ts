// Merges per-node flow streams by time. Each node's stream is already in time order, so the
// merger holds one FIFO per node and a min-heap of the nodes by their earliest (head) flow: it
// emits the earliest head once every live node has one (an exact merge), or once that head has
// waited `windowMs` (follow mode: an idle node must not hold everyone back), or when the buffer
// (`capacity` flows across all nodes) is full. Each flow costs O(log nodes). Hubble waits up to
// 1 s; Wirescope's window is tens of milliseconds.
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
  /** Position in the merger's heap; -1 while empty (not in the heap). */
  heapIndex = -1;
  /** One-shot: called once the source holds no more than `lowWater` items (see onceBelow). */
  lowWater = -1;
  onLow: (() => void) | undefined;

  /** `order` breaks ties between equal times: the source added first goes first. */
  constructor(readonly order: number) {}

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

/** Whether source a's head goes before source b's (both non-empty). */
function before(a: Source, b: Source): boolean {
  const ta = a.peek()!.time;
  const tb = b.peek()!.time;
  return ta < tb || (ta === tb && a.order < b.order);
}

/** A binary min-heap of the non-empty sources, ordered by head time. */
class SourceHeap {
  private readonly heap: Source[] = [];

  get top(): Source | undefined {
    return this.heap[0];
  }

  insert(s: Source): void {
    this.heap.push(s);
    this.up(this.heap.length - 1);
  }

  private place(i: number, s: Source): void {
    this.heap[i] = s;
    s.heapIndex = i;
  }

  /** The top's head was shifted: re-place it, or drop it when it has nothing left. */
  topChanged(): void {
    const top = this.heap[0]!;
    if (top.length > 0) {
      this.down(0);
      return;
    }
    top.heapIndex = -1;
    const last = this.heap.pop()!;
    if (last !== top) {
      this.place(0, last);
      this.down(0);
    }
  }

  private up(i: number): void {
    const heap = this.heap;
    const s = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(s, p)) break;
      this.place(i, p);
      i = parent;
    }
    this.place(i, s);
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const s = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      const c = heap[child]!;
      if (!before(c, s)) break;
      this.place(i, c);
      i = child;
    }
    this.place(i, s);
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
  private readonly heads = new SourceHeap();
  /** Live (not ended) sources holding nothing: an exact merge must wait for them. */
  private emptyLive = 0;
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private closed = false;

  constructor(private readonly opts: MergerOptions) {}

  private now(): number {
    return this.opts.now?.() ?? performance.now();
  }

  addSource(id: string): void {
    const s = this.sources.get(id);
    if (!s) {
      this.sources.set(id, new Source(this.sources.size));
      this.emptyLive++;
    } else if (s.ended) {
      s.ended = false;
      if (s.length === 0) this.emptyLive++;
    }
  }

  push(id: string, time: TimeMicros, bytes: Uint8Array): void {
    const s = this.sources.get(id);
    if (!s || this.closed) return;
    s.items.push({ time, bytes, arrivedMs: this.now() });
    if (s.length === 1) {
      this.heads.insert(s);
      if (!s.ended) this.emptyLive--;
    }
    this.buffered++;
    this.drain();
  }

  /** The node's stream is over (ended or failed): stop waiting for it. */
  endSource(id: string): void {
    const s = this.sources.get(id);
    if (!s) return;
    if (!s.ended && s.length === 0) this.emptyLive--;
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
      const min = this.heads.top;
      if (!min) break;
      const head = min.peek()!;
      if (this.emptyLive > 0 && this.buffered < this.opts.capacity) {
        const waited = this.now() - head.arrivedMs;
        if (waited < this.opts.windowMs) {
          this.schedule(this.opts.windowMs - waited);
          break;
        }
      }
      min.shift();
      this.heads.topChanged();
      if (min.length === 0 && !min.ended) this.emptyLive++;
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
