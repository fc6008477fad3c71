// The stores' one mechanism: a version that changes on every update, listeners told at most once
// per animation frame (a burst of batches renders once), and a React hook that re-renders on it.
import { useSyncExternalStore } from 'react';

export class Observable {
  private readonly listeners = new Set<() => void>();
  private scheduled = false;
  version = 0;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  protected changed(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      for (const l of this.listeners) l();
    };
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(run);
    else setTimeout(run, 16);
  }
}

/** Re-renders the calling component whenever `store` changes; returns its version. */
export function useStore(store: Observable): number {
  return useSyncExternalStore(store.subscribe, () => store.version);
}
