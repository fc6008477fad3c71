import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ERROR_RESPONSES } from './errors.js';

/** A local pod's endpoint as the store has it, with the security identity allocated for its labels. */
export const LocalEndpointSchema = Type.Object({
  namespace: Type.String(),
  pod: Type.String(),
  node: Type.String(),
  ip: Type.String(),
  interface: Type.String({ description: 'host-side interface in the node namespace (lxc…)' }),
  labels: Type.Record(Type.String(), Type.String()),
  netns: Type.Optional(Type.String()),
  /** Absent until the store answered the allocation. */
  identity: Type.Optional(Type.Integer()),
});

export const EndpointsResponseSchema = Type.Object({
  node: Type.String(),
  endpoints: Type.Array(LocalEndpointSchema),
});
export type EndpointsResponse = Static<typeof EndpointsResponseSchema>;

export interface EndpointSource {
  endpoints(): Promise<EndpointsResponse>;
}

/** GET /v1/endpoints */
export const endpointsPlugin: FastifyPluginAsyncTypebox<{ source: EndpointSource }> = async (
  app,
  { source },
) => {
  app.get(
    '/v1/endpoints',
    { schema: { response: { 200: EndpointsResponseSchema, ...ERROR_RESPONSES } } },
    () => source.endpoints(),
  );
};
