// GET /api/namespaces: the namespaces the relay's agents have seen flows for.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RelayApi } from '../relay-client.js';
import { ERROR_RESPONSES } from './errors.js';

export const NamespacesResponseSchema = Type.Object({
  namespaces: Type.Array(Type.Object({ cluster: Type.String(), namespace: Type.String() })),
});
export type NamespacesResponse = Static<typeof NamespacesResponseSchema>;

export const namespacesPlugin: FastifyPluginAsyncTypebox<{ relay: RelayApi }> = async (app, { relay }) => {
  app.get(
    '/api/namespaces',
    { schema: { response: { 200: NamespacesResponseSchema, ...ERROR_RESPONSES } } },
    async () => {
      const namespaces = await relay.namespaces();
      namespaces.sort((a, b) => a.namespace.localeCompare(b.namespace));
      return { namespaces };
    },
  );
};
