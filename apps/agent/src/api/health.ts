import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ERROR_RESPONSES } from './errors.js';

const OutageSchema = Type.Object({
  reason: Type.String(),
  from: Type.String({ description: 'ISO time the device went down' }),
  to: Type.String({ description: 'ISO time it was back' }),
  seconds: Type.Number(),
});

/** The encryption device's state, with the time it last changed. */
export const DeviceStateSchema = Type.Object({
  state: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  since: Type.String({ description: 'ISO time of the last change' }),
  reason: Type.Optional(Type.String()),
  lastOutage: Type.Optional(OutageSchema),
});

export const HealthResponseSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  node: Type.String(),
  startedAt: Type.String(),
  pid: Type.Integer(),
  store: Type.Object({
    connected: Type.Boolean(),
    lastSync: Type.Optional(Type.String()),
    lastError: Type.Optional(Type.String()),
    nodes: Type.Integer(),
    endpoints: Type.Array(Type.String()),
  }),
  /** Nodes whose agent lease lapsed: their peer is kept (stale) until the grace period ends. */
  staleNodes: Type.Array(Type.Object({ name: Type.String(), since: Type.String() })),
  wireguard: Type.Object({
    ok: Type.Boolean(),
    error: Type.Optional(Type.String()),
    device: DeviceStateSchema,
  }),
});
export type HealthResponse = Static<typeof HealthResponseSchema>;

export interface HealthSource {
  health(): Promise<HealthResponse>;
}

/** GET /healthz */
export const healthPlugin: FastifyPluginAsyncTypebox<{ source: HealthSource }> = async (app, { source }) => {
  app.get('/healthz', { schema: { response: { 200: HealthResponseSchema, ...ERROR_RESPONSES } } }, () =>
    source.health(),
  );
};
