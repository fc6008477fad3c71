// The stores' one mechanism: a version that changes on every update, listeners told at most every
// 200 ms (Whisker renders once a second; every batch that arrives meanwhile is coalesced into one
// render, so never two in a frame): the first change after a quiet spell renders in the next task,
// a burst waits out the interval. Renders run in a timer task of their own, not in an animation
// frame: a render inside requestAnimationFrame shares its task with the frame's style, layout and
// paint, and the two together made 100-300 ms long tasks at 1,000 flows/s on a busy machine.
// And a React hook.
import { useSyncExternalStore } from 'react';

/** Renders per second stay bounded however many batches arrive: at 5k flows/s that is 10 batches. */
const renderIntervalMs = 200;

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
    setTimeout(run, Math.max(0, this.lastRun + renderIntervalMs - performance.now()));
  }
}

/** Re-renders the calling component whenever `store` changes; returns its version. */
export function useStore(store: Observable): number {
  return useSyncExternalStore(store.subscribe, () => store.version);
}
