// The browser's bounded flow buffer: a fixed-size ring, newest overwriting oldest, so a long
// session's memory stays flat (Hubble UI keeps 1,024; this keeps `capacity`).
export class FlowRing<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  size = 0;
  /** Flows pushed out of the ring since it started. */
  evicted = 0;
  /** Items pushed since the last clear: the i-th newest is item number `pushed - 1 - i`. */
  pushed = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    if (this.size === this.capacity) this.evicted++;
    else this.size++;
    this.pushed++;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The i-th newest item (0 = newest). */
  newest(i: number): T | undefined {
    if (i < 0 || i >= this.size) return undefined;
    return this.items[(this.next - 1 - i + this.capacity * 2) % this.capacity];
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.size - 1; i >= 0; i--) yield this.newest(i)!;
  }

  clear(): void {
    this.items.fill(undefined);
    this.next = 0;
    this.pushed = 0;
    this.size = 0;
  }
}
