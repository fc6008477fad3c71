// The lab's Prometheus as the UI server reads it: range queries over its HTTP API
// (/api/v1/query_range), bounded by a timeout. Every failure is METRICS_UNAVAILABLE with the
// reason, which the screens show in place of their charts.
import { UiError } from './errors.js';

export interface RangeSeries {
  metric: Record<string, string>;
  /** [unix seconds, value] pairs; NaN and ±Inf are dropped (nothing to draw). */
  values: [number, number][];
}

export interface PrometheusApi {
  readonly url: string;
  queryRange(query: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]>;
}

interface PromBody {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: { metric: Record<string, string>; values: [number, string][] }[] };
}

export class PrometheusClient implements PrometheusApi {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 3000,
  ) {}

  async queryRange(query: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]> {
    const params = new URLSearchParams({
      query,
      start: String(start),
      end: String(end),
      step: String(stepSeconds),
    });
    let body: PromBody;
    try {
      const res = await fetch(`${this.url.replace(/\/+$/, '')}/api/v1/query_range?${params}`, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as PromBody;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new UiError(
        'METRICS_UNAVAILABLE',
        `Prometheus at ${this.url} did not answer: ${e.cause?.code ?? e.message}`,
      );
    }
    if (body.status !== 'success' || body.data?.resultType !== 'matrix')
      throw new UiError(
        'METRICS_UNAVAILABLE',
        `Prometheus at ${this.url} refused the query: ${body.error ?? 'no matrix in the answer'}`,
      );
    return (body.data.result ?? []).map((r) => ({
      metric: r.metric,
      values: r.values
        .map(([t, v]) => [t, Number(v)] as [number, number])
        .filter(([, v]) => Number.isFinite(v)),
    }));
  }
}
