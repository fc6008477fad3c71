// GET /api/metrics/:chart?range=15m: one of the fixed charts (shared/charts.ts) as a Prometheus
// range query, answered as named series of [unix seconds, value] points. Without Prometheus (or
// when it refuses) the answer is METRICS_UNAVAILABLE, which the screens show in place of a chart.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { chartIds, chartRanges, charts, type ChartId } from '../../shared/charts.js';
import type { PrometheusApi } from '../prometheus.js';
import { ERROR_RESPONSES, ErrorResponseSchema } from './errors.js';
import { UiError } from '../errors.js';

interface ChartQuery {
  /** PromQL; `$window` becomes the rate window (at least a minute, at least one step). */
  expr: string;
  /** The labels that name a series, joined by `format`. */
  legend: (labels: Record<string, string>) => string;
}

// what the dashboards and packages/metrics name; `node` is the target label of an agent's scrape
const queries: Record<ChartId, ChartQuery> = {
  'flows-by-verdict': {
    expr: 'sum by (verdict) (rate(hubble_flows_processed_total[$window]))',
    legend: (l) => l.verdict ?? 'all',
  },
  'drops-by-reason': {
    expr: 'sum by (reason) (rate(hubble_drop_total[$window]))',
    legend: (l) => l.reason ?? 'all',
  },
  'encrypted-bytes': {
    expr:
      'sum by (source_node, destination_node, state) ' +
      '(rate(wirescope_encryption_bytes_total{state=~"encrypted|plaintext"}[$window]))',
    legend: (l) => `${l.source_node}→${l.destination_node} ${l.state}`,
  },
  'handshake-age': {
    // a peer that never completed a handshake reports 0: no age to draw
    expr:
      'max by (node, name) ((time() - (wireguard_peer_last_handshake_seconds > 0)) ' +
      '* on (instance, device, public_key) group_left (name) wireguard_peer_info)',
    legend: (l) => `${l.node ?? l.instance}→${l.name}`,
  },
  'lost-events': {
    expr: 'sum by (node, stage) (rate(wirescope_lost_events_total[$window]))',
    legend: (l) => `${l.node ?? l.instance} ${l.stage}`,
  },
  'ring-fill': {
    expr: '100 * max by (node) (wirescope_flow_ring_flows / wirescope_flow_ring_capacity)',
    legend: (l) => l.node ?? l.instance ?? '',
  },
};

const rangeSeconds: Record<(typeof chartRanges)[number], number> = {
  '5m': 300,
  '15m': 900,
  '1h': 3600,
  '6h': 21600,
};

/** About 120 points a chart, never finer than the lab's 2 s scrape. */
export function chartStep(range: number): number {
  return Math.max(2, Math.round(range / 120));
}

export function chartExpr(chart: ChartId, step: number): string {
  return queries[chart].expr.replaceAll('$window', `${Math.max(60, step)}s`);
}

const SeriesSchema = Type.Object({
  name: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  points: Type.Array(Type.Tuple([Type.Number(), Type.Number()])),
});

export const ChartResponseSchema = Type.Object({
  chart: Type.String(),
  title: Type.String(),
  unit: Type.String(),
  /** The query's bounds (unix seconds) and step. */
  start: Type.Number(),
  end: Type.Number(),
  step: Type.Number(),
  query: Type.String(),
  series: Type.Array(SeriesSchema),
});

export interface ChartResponse {
  chart: ChartId;
  title: string;
  unit: string;
  start: number;
  end: number;
  step: number;
  query: string;
  series: { name: string; labels: Record<string, string>; points: [number, number][] }[];
}

export const metricsPlugin: FastifyPluginAsyncTypebox<{
  prometheus?: PrometheusApi | undefined;
  now?: () => number;
}> = async (app, opts) => {
  const now = opts.now ?? Date.now;
  app.get(
    '/api/metrics/:chart',
    {
      schema: {
        params: Type.Object({ chart: Type.Union(chartIds.map((id) => Type.Literal(id))) }),
        querystring: Type.Object({
          range: Type.Optional(
            Type.Union(
              chartRanges.map((r) => Type.Literal(r)),
              { default: '15m' },
            ),
          ),
        }),
        response: { 200: ChartResponseSchema, 503: ErrorResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request): Promise<ChartResponse> => {
      const chart = request.params.chart as ChartId;
      if (!opts.prometheus)
        throw new UiError('METRICS_UNAVAILABLE', 'no Prometheus configured (--prometheus URL)');
      const range = rangeSeconds[request.query.range ?? '15m'];
      const step = chartStep(range);
      const end = Math.floor(now() / 1000);
      const start = end - range;
      const query = chartExpr(chart, step);
      const result = await opts.prometheus.queryRange(query, start, end, step);
      const legend = queries[chart].legend;
      return {
        chart,
        title: charts[chart].title,
        unit: charts[chart].unit,
        start,
        end,
        step,
        query,
        series: result
          .map((r) => ({ name: legend(r.metric), labels: r.metric, points: r.values }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      };
    },
  );
};
