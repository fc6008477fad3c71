// GET /api/status: the relay's ServerStatus and its nodes (connected / unavailable), what the
// Health screen and the top bar's banner show.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NodeState } from '@wirescope/flow';
import type { RelayApi } from '../relay-client.js';
import { ERROR_RESPONSES } from './errors.js';

export const NodeSchema = Type.Object({
  name: Type.String(),
  address: Type.String(),
  state: Type.String({ description: 'NODE_CONNECTED, NODE_UNAVAILABLE, NODE_GONE, NODE_ERROR' }),
  version: Type.String(),
  numFlows: Type.Number(),
  maxFlows: Type.Number(),
  seenFlows: Type.Number(),
  uptimeSeconds: Type.Number(),
});

export const StatusResponseSchema = Type.Object({
  relay: Type.Object({
    address: Type.String(),
    version: Type.String(),
    numFlows: Type.Number(),
    maxFlows: Type.Number(),
    seenFlows: Type.Number(),
    flowsRate: Type.Number({ description: 'flows per second, summed over the nodes' }),
    uptimeSeconds: Type.Number(),
  }),
  connectedNodes: Type.Integer(),
  unavailableNodes: Type.Array(Type.String()),
  nodes: Type.Array(NodeSchema),
  /** When the server asked the relay (ISO). */
  observedAt: Type.String(),
});
export type StatusResponse = Static<typeof StatusResponseSchema>;
export type NodeInfo = Static<typeof NodeSchema>;

const stateName = (s: NodeState): string => NodeState[s] ?? String(s);

export async function readStatus(relay: RelayApi): Promise<StatusResponse> {
  const [status, nodes] = await Promise.all([relay.status(), relay.nodes()]);
  const list = nodes.nodes.map((n) => ({
    name: n.name,
    address: n.address,
    state: stateName(n.state),
    version: n.version,
    numFlows: Number(n.numFlows),
    maxFlows: Number(n.maxFlows),
    seenFlows: Number(n.seenFlows),
    uptimeSeconds: Number(n.uptimeNs / 1_000_000n) / 1000,
  }));
  const unavailable = new Set(status.unavailableNodes);
  for (const n of list) if (n.state !== 'NODE_CONNECTED') unavailable.add(n.name);
  return {
    relay: {
      address: relay.address,
      version: status.version,
      numFlows: Number(status.numFlows),
      maxFlows: Number(status.maxFlows),
      seenFlows: Number(status.seenFlows),
      flowsRate: status.flowsRate,
      uptimeSeconds: Number(status.uptimeNs / 1_000_000n) / 1000,
    },
    connectedNodes: status.numConnectedNodes ?? list.filter((n) => n.state === 'NODE_CONNECTED').length,
    unavailableNodes: [...unavailable].sort(),
    nodes: list,
    observedAt: new Date().toISOString(),
  };
}

export const statusPlugin: FastifyPluginAsyncTypebox<{ relay: RelayApi }> = async (app, { relay }) => {
  app.get('/api/status', { schema: { response: { 200: StatusResponseSchema, ...ERROR_RESPONSES } } }, () =>
    readStatus(relay),
  );
};
