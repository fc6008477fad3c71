// Flow history and export: GET /api/flows (JSON, for the table's time range) and
// GET /api/flows/export (JSON lines or CSV, the same selection), both through the relay's GetFlows;
// GET /api/flow/:uuid, one whole flow for the details panel (live rows carry only part of it).
import { create } from '@bufbuild/protobuf';
import { Type, type Static } from '@sinclair/typebox';
import { FlowFilterSchema } from '@wirescope/flow';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RelayApi } from '../relay-client.js';
import { flowRequest, selectionFlags, type FlowSelection } from '../flow-request.js';
import type { FlowJson } from '../flow-json.js';
import { flowsCsv } from '../export.js';
import { ERROR_RESPONSES, ErrorResponseSchema } from './errors.js';
import { UiError } from '../errors.js';

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
  return { observeFlags: flags, flows: await relay.flows(flowRequest(sel), q.limit ?? 1000) };
}

export const FlowResponseSchema = Type.Object({ flow: Type.Record(Type.String(), Type.Unknown()) });
export type FlowResponse = { flow: FlowJson };

/** The newest flow with this uuid the relay's nodes still hold. */
async function flowByUuid(relay: RelayApi, uuid: string): Promise<FlowResponse> {
  const request = flowRequest({ filters: [], last: 1 });
  request.whitelist = [create(FlowFilterSchema, { uuid: [uuid] })];
  const flows = await relay.flows(request, 1);
  const flow = flows[flows.length - 1];
  if (!flow) throw new UiError('NOT_FOUND', `no node holds flow ${uuid} any more`);
  return { flow };
}

export const flowsPlugin: FastifyPluginAsyncTypebox<{ relay: RelayApi }> = async (app, { relay }) => {
  app.get(
    '/api/flow/:uuid',
    {
      schema: {
        params: Type.Object({ uuid: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: FlowResponseSchema, 404: ErrorResponseSchema, ...ERROR_RESPONSES },
      },
    },
    (request) => flowByUuid(relay, request.params.uuid),
  );

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
