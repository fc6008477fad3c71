import { Readable } from 'node:stream';
import type { LazyFlow, ObservedItem } from '../flows/observer.js';

/** How many live items a slow reader may fall behind by before newer ones are counted as lost. */
export const FOLLOW_MAX_PENDING = 8192;

interface LostRun {
  kind: 'lost';
  count: number;
}

export interface FollowOptions {
  /** Decoded one at a time as the reader asks (a backlog of 65,535 is not decoded up front). */
  backlog: readonly LazyFlow[];
  subscribe(fn: (item: ObservedItem) => void): () => void;
  /** One NDJSON line (without the newline) per observed item. */
  line(item: ObservedItem): string;
  /** The line that tells a reader how many items it missed. */
  lostLine(count: number): string;
  maxPending?: number;
}

/**
 * The follow stream as a Readable that produces only when its reader asks: the backlog is
 * serialized lazily, live items wait in a bounded queue (the observer cannot be paused: it is fed
 * by the kernel), and a reader too slow to keep up is told, where it happened, how many it
 * missed (as Hubble's lost_events do) instead of the agent buffering without limit. Destroying it (the client went
 * away) unsubscribes.
 */
export class FollowStream extends Readable {
  private readonly backlog: readonly LazyFlow[];
  private backlogAt = 0;
  /** Live items in order; a run of items dropped while the queue was full is one LostRun in its place. */
  private readonly pending: (ObservedItem | LostRun)[] = [];
  private readerWaiting = false;
  private readonly unsubscribe: () => void;
  private readonly maxPending: number;

  constructor(private readonly options: FollowOptions) {
    super({ encoding: 'utf8' });
    this.backlog = options.backlog;
    this.maxPending = options.maxPending ?? FOLLOW_MAX_PENDING;
    this.unsubscribe = options.subscribe((item) => this.enqueue(item));
  }

  private enqueue(item: ObservedItem): void {
    if (this.destroyed) return;
    if (this.pending.length >= this.maxPending) {
      const tail = this.pending.at(-1);
      if (tail?.kind === 'lost') tail.count++;
      else this.pending.push({ kind: 'lost', count: 1 });
      return;
    }
    this.pending.push(item);
    if (this.readerWaiting) this.produce();
  }

  override _read(): void {
    this.readerWaiting = true;
    this.produce();
  }

  private nextLine(): string | undefined {
    const entry = this.backlog[this.backlogAt];
    if (entry !== undefined) {
      this.backlogAt++;
      return this.options.line({ kind: 'flow', flow: entry.flow });
    }
    const item = this.pending.shift();
    if (item === undefined) return undefined;
    return item.kind === 'lost' ? this.options.lostLine(item.count) : this.options.line(item);
  }

  private produce(): void {
    while (this.readerWaiting) {
      const line = this.nextLine();
      if (line === undefined) return;
      this.readerWaiting = this.push(`${line}\n`);
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.unsubscribe();
    this.pending.length = 0;
    callback(err);
  }
}
