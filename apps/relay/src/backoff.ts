// Exponential reconnect backoff: 1 s doubling to 8 s, reset after a successful connection.
// Hubble's relay caps at 60 s, so an agent back from a restart stays "unavailable" for up to a
// minute; one connection attempt per 8 s per absent node is cheap even in large clusters.
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Fraction of random spread (0.2 = up to ±20 %) so peers do not reconnect in lockstep. */
  jitter?: number;
  random?: () => number;
}

export const RECONNECT_MAX_MS = 8_000;

export class Backoff {
  private attempt = 0;
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? RECONNECT_MAX_MS;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0;
    this.random = opts.random ?? Math.random;
  }

  /** Delay before the next attempt. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    if (this.jitter === 0) return base;
    const spread = base * this.jitter * (this.random() * 2 - 1);
    return Math.max(0, Math.min(this.maxMs, Math.round(base + spread)));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
