// A time-series chart's geometry: round y ticks over the data's range, values in their unit
// (bytes in KiB/MiB, seconds in minutes), and each series as an SVG polyline in the plot box.
export interface ChartSeries {
  name: string;
  points: [number, number][];
}

/** 0 and up to `count` round steps (1, 2, 2.5, 5 × 10^n) covering `max`. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

const binary = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatValue(v: number, unit: string): string {
  // three significant digits at most, no trailing zeros (0.5%, 1.5 KiB/s, 97.5 B/s, 156 B/s)
  const short = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : String(Number(n.toPrecision(3))));
  if (unit === 'B/s') {
    let i = 0;
    while (Math.abs(v) >= 1024 && i < binary.length - 1) {
      v /= 1024;
      i++;
    }
    return `${short(v)} ${binary[i]}/s`;
  }
  if (unit === 's') return v >= 120 ? `${short(v / 60)} min` : `${short(v)} s`;
  if (unit === '%') return `${short(v)}%`;
  return `${short(v)} ${unit}`;
}

export interface Plot {
  width: number;
  height: number;
  start: number;
  end: number;
}

/** The polyline of one series: time across, 0..top up (SVG y grows downwards). */
export function polyline(points: [number, number][], plot: Plot, top: number): string {
  const span = Math.max(1, plot.end - plot.start);
  return points
    .map(([t, v]) => {
      const x = ((t - plot.start) / span) * plot.width;
      const y = plot.height - (Math.max(0, v) / (top || 1)) * plot.height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

export function seriesMax(series: readonly ChartSeries[]): number {
  let max = 0;
  for (const s of series) for (const [, v] of s.points) if (v > max) max = v;
  return max;
}
