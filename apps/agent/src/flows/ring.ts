/**
 * A fixed-capacity ring of the most recent items with Hubble's accounting: `seen` counts every
 * item ever pushed, `lost` counts events that never made it into the ring (undecodable records,
 * ring-buffer reservation failures reported by the kernel). Capacity is 2^n - 1 like Hubble's.
 */
export const DEFAULT_RING_CAPACITY = 4095;
export const MAX_RING_CAPACITY = (1 << 20) - 1;

export function validateRingCapacity(capacity: number): string | undefined {
  if (
    !Number.isInteger(capacity) ||
    capacity < 1 ||
    capacity > MAX_RING_CAPACITY ||
    ((capacity + 1) & capacity) !== 0
  )
    return `ring capacity ${capacity} is not valid; accepted: 2^n - 1 from 1 to ${MAX_RING_CAPACITY} (e.g. 4095, 65535)`;
  return undefined;
}

export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  seen = 0;
  lost = 0;

  constructor(readonly capacity = DEFAULT_RING_CAPACITY) {
    const problem = validateRingCapacity(capacity);
    if (problem) throw new RangeError(problem);
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.seen++;
  }

  get size(): number {
    return Math.min(this.seen, this.capacity);
  }

  /** The last n items, oldest first. */
  last(n: number): T[] {
    const count = Math.max(0, Math.min(n, this.size));
    const out: T[] = [];
    for (let i = count; i > 0; i--) {
      const item = this.items[(this.next - i + this.capacity) % this.capacity];
      if (item !== undefined) out.push(item);
    }
    return out;
  }
}
