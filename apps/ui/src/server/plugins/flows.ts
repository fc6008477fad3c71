// Flow history and export: GET /api/flows (JSON, for the table's time range) and
// GET /api/flows/export (JSON lines or CSV, the same selection), both through the relay's GetFlows.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RelayApi } from '../relay-client.js';
import { flowRequest, selectionFlags, type FlowSelection } from '../flow-request.js';
import { responsesToFlows, type FlowJson } from '../flow-json.js';
import { flowsCsv } from '../export.js';
import { ERROR_RESPONSES } from './errors.js';

export const maxHistoryFlows = 20_000;

export const FlowsQuerySchema = Type.Object({
  filter: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: 'filter entries, [!][from:|to:]kind=value, repeated (ANDed as observe flags)',
    }),
  ),
  since: Type.Optional(Type.String({ description: 'relative (5m) or RFC3339' })),
  until: Type.Optional(Type.String({ description: 'relative (1m) or RFC3339' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: maxHistoryFlows, default: 1000 })),
});
type FlowsQuery = Static<typeof FlowsQuerySchema>;

export const FlowsResponseSchema = Type.Object({
  /** The `wirescope observe` flags that select the same flows. */
  observeFlags: Type.Array(Type.String()),
  flows: Type.Array(Type.Record(Type.String(), Type.Unknown())),
});
export type FlowsResponse = { observeFlags: string[]; flows: FlowJson[] };
export type { FlowJson };

const ExportQuerySchema = Type.Intersect([
  FlowsQuerySchema,
  Type.Object({ format: Type.Optional(Type.Union([Type.Literal('jsonl'), Type.Literal('csv')])) }),
]);

function selection(q: FlowsQuery): FlowSelection {
  const filters = q.filter === undefined ? [] : [q.filter].flat();
  const limit = q.limit ?? 1000;
  // without a time range, the newest flows: observe's --last N (N per node through a relay)
  return q.since || q.until ? { filters, since: q.since, until: q.until } : { filters, last: limit };
}

async function history(relay: RelayApi, q: FlowsQuery): Promise<FlowsResponse> {
  const sel = selection(q);
  const flags = selectionFlags(sel);
  const responses = await relay.flows(flowRequest(sel), q.limit ?? 1000);
  return { observeFlags: flags, flows: responsesToFlows(responses) };
}

export const flowsPlugin: FastifyPluginAsyncTypebox<{ relay: RelayApi }> = async (app, { relay }) => {
  app.get(
    '/api/flows',
    { schema: { querystring: FlowsQuerySchema, response: { 200: FlowsResponseSchema, ...ERROR_RESPONSES } } },
    (request) => history(relay, request.query),
  );

  app.get('/api/flows/export', { schema: { querystring: ExportQuerySchema } }, async (request, reply) => {
    const { flows } = await history(relay, request.query);
    const format = request.query.format ?? 'jsonl';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    void reply.header('content-disposition', `attachment; filename="wirescope-flows-${stamp}.${format}"`);
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(flowsCsv(flows));
    return reply
      .type('application/x-ndjson; charset=utf-8')
      .send(flows.map((f) => JSON.stringify(f)).join('\n') + (flows.length ? '\n' : ''));
  });
};
