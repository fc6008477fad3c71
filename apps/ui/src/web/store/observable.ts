// The stores' one mechanism: a version that changes on every update, listeners told in an
// animation frame at most every 200 ms (Whisker renders once a second; every batch that arrives
// meanwhile is coalesced into one render): the first change after a quiet spell renders in the
// next frame, a burst waits out the interval. And a React hook.
import { useSyncExternalStore } from 'react';

/** Renders per second stay bounded however many batches arrive: at 5k flows/s that is 10 batches. */
const renderIntervalMs = 200;

const nextFrame: (run: () => void) => void =
  typeof requestAnimationFrame === 'function' ? (run) => requestAnimationFrame(run) : (run) => run();

export class Observable {
  private readonly listeners = new Set<() => void>();
  private scheduled = false;
  private lastRun = -Infinity;
  version = 0;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /**
   * A change the user just made (a click, a checkbox): told at once, in the same event, so a
   * controlled input shows its new state instead of snapping back until the next render.
   */
  protected changedNow(): void {
    this.version++;
    this.lastRun = performance.now();
    for (const l of this.listeners) l();
  }

  protected changed(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.lastRun = performance.now();
      for (const l of this.listeners) l();
    };
    // in a frame, so a render never lands between two frames' work
    const wait = this.lastRun + renderIntervalMs - performance.now();
    if (wait <= 0) nextFrame(run);
    else setTimeout(() => nextFrame(run), wait);
  }
}

/** Re-renders the calling component whenever `store` changes; returns its version. */
export function useStore(store: Observable): number {
  return useSyncExternalStore(store.subscribe, () => store.version);
}
