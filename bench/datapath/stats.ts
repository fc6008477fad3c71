// Order statistics for paired rounds. A noisy shared machine gives heavy tails (one round can
// lose a third of its throughput to another process), so the figure is a median and its spread is
// given as quartiles and extremes rather than a mean and standard deviation.

/** Linear-interpolated quantile (q in [0, 1]) of the values; NaN for none. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] ?? NaN) + ((sorted[hi] ?? NaN) - (sorted[lo] ?? NaN)) * (pos - lo);
}

export const median = (values: number[]): number => quantile(values, 0.5);

export interface Spread {
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  return {
    median: median(values),
    q1: quantile(values, 0.25),
    q3: quantile(values, 0.75),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** `name=M name_iqr=Q1..Q3 name_range=MIN..MAX` with `digits` decimals. */
export function formatSpread(name: string, s: Spread, digits = 3): string {
  const f = (x: number) => x.toFixed(digits);
  return `${name}=${f(s.median)} ${name}_iqr=${f(s.q1)}..${f(s.q3)} ${name}_range=${f(s.min)}..${f(s.max)}`;
}
