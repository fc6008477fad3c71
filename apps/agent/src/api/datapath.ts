import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ERROR_RESPONSES } from './errors.js';
import { ObserverCountersSchema } from './flows.js';

export const AttachmentStatusSchema = Type.Object({
  interface: Type.String(),
  program: Type.String(),
  direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress'), Type.Literal('tracing')]),
  attached: Type.Boolean(),
  error: Type.Optional(Type.String()),
  kind: Type.Optional(
    Type.Union([Type.Literal('tcx'), Type.Literal('filter')], {
      description: 'a tc program attached as a TCX link or as a cls_bpf filter',
    }),
  ),
  linkId: Type.Optional(Type.Integer({ description: "a TCX link's id (bpftool link show id …)" })),
  repairs: Type.Optional(
    Type.Integer({
      description: 'times the agent found this filter taken away (deleted, replaced) and put it back',
    }),
  ),
  lastRepair: Type.Optional(Type.String({ description: 'ISO time of the last repair' })),
});

/** The namespaces (by inode) whose kernel drops this node reports, and endpoints without one. */
export const LocalNetnsSchema = Type.Object({
  node: Type.Optional(Type.Number({ description: "the node namespace's inode" })),
  nodePath: Type.String(),
  nodeError: Type.Optional(Type.String()),
  endpoints: Type.Array(
    Type.Object({
      interface: Type.String(),
      path: Type.Optional(Type.String()),
      inode: Type.Optional(Type.Number()),
      error: Type.Optional(Type.String()),
    }),
  ),
  inodes: Type.Array(Type.Number()),
});

export const DatapathStatsSchema = Type.Object({
  leakPackets: Type.Number(),
  /** packets from_endpoint steered into the WireGuard device (the encrypt mark; the name predates it) */
  redirects: Type.Number(),
  strictDrops: Type.Number(),
  flowsCreated: Type.Number(),
  traces: Type.Number(),
  arpReplies: Type.Number(),
  transportPackets: Type.Number(),
  /** dropped by network policy (133, 181) or a policy's encryption demand (195) */
  policyDrops: Type.Optional(Type.Number()),
  lostEvents: Type.Number(),
});

export const PeerTrafficSchema = Type.Object({
  peerIP: Type.String(),
  direction: Type.Union([Type.Literal('egress'), Type.Literal('ingress')]),
  packets: Type.Number(),
  bytes: Type.Number(),
});

/**
 * The eBPF datapath's state. Without a datapath (--datapath off, or it failed to load: `error`
 * says why) only node, mode, loaded and error are there.
 */
export const DatapathStatusResponseSchema = Type.Object({
  node: Type.String(),
  mode: Type.Union([Type.Literal('bpf'), Type.Literal('off')]),
  loaded: Type.Boolean(),
  error: Type.Optional(Type.String()),
  strict: Type.Optional(Type.Boolean()),
  wgIfindex: Type.Optional(Type.Number()),
  attachments: Type.Optional(Type.Array(AttachmentStatusSchema)),
  netns: Type.Optional(LocalNetnsSchema),
  /** The maps' counters, or why they could not be read. */
  stats: Type.Optional(Type.Union([DatapathStatsSchema, Type.Object({ error: Type.String() })])),
  peerTraffic: Type.Optional(Type.Array(PeerTrafficSchema)),
  observer: Type.Optional(ObserverCountersSchema),
});
export type DatapathStatusResponse = Static<typeof DatapathStatusResponseSchema>;

/** struct ws_flow_key / ws_flow_value (bpf/lib/flowagg.h): every packet, not only traced ones. */
export const FlowCounterSchema = Type.Object({
  saddr: Type.String(),
  daddr: Type.String(),
  sport: Type.Number(),
  dport: Type.Number(),
  protocol: Type.Number(),
  point: Type.Number(),
  packets: Type.Number(),
  bytes: Type.Number(),
  firstNs: Type.String({ description: 'ktime in ns, a decimal string (beyond 2^53)' }),
  lastNs: Type.String(),
  tcpFlagsSeen: Type.Number(),
});

export const FlowCountersResponseSchema = Type.Object({
  node: Type.String(),
  flows: Type.Array(FlowCounterSchema),
});
export type FlowCountersResponse = Static<typeof FlowCountersResponseSchema>;

export const StrictRequestSchema = Type.Object(
  { enabled: Type.Boolean({ description: 'true or false' }) },
  { description: '{"enabled": true|false}' },
);
export type StrictRequest = Static<typeof StrictRequestSchema>;
export const StrictResponseSchema = Type.Object({ node: Type.String(), strict: Type.Boolean() });
export type StrictResponse = Static<typeof StrictResponseSchema>;

export const AttachRequestSchema = Type.Object(
  { attached: Type.Boolean({ description: 'true or false' }) },
  { description: '{"attached": true|false}' },
);
export type AttachRequest = Static<typeof AttachRequestSchema>;
export const AttachResponseSchema = Type.Object({ node: Type.String(), attached: Type.Boolean() });
export type AttachResponse = Static<typeof AttachResponseSchema>;

export interface DatapathSource {
  datapathStatus(): DatapathStatusResponse;
  flowCounters(): FlowCountersResponse;
  /** Throws AgentError NOT_FOUND without a datapath (as the two below). */
  setStrictEncryption(enabled: boolean): StrictResponse;
  setDatapathAttached(attached: boolean): Promise<AttachResponse>;
}

/** GET /v1/datapath, /v1/datapath/flow-counters; POST /v1/datapath/strict, /v1/datapath/attach */
export const datapathPlugin: FastifyPluginAsyncTypebox<{ source: DatapathSource }> = async (
  app,
  { source },
) => {
  app.get(
    '/v1/datapath',
    { schema: { response: { 200: DatapathStatusResponseSchema, ...ERROR_RESPONSES } } },
    () => source.datapathStatus(),
  );
  app.get(
    '/v1/datapath/flow-counters',
    { schema: { response: { 200: FlowCountersResponseSchema, ...ERROR_RESPONSES } } },
    () => source.flowCounters(),
  );
  app.post(
    '/v1/datapath/strict',
    { schema: { body: StrictRequestSchema, response: { 200: StrictResponseSchema, ...ERROR_RESPONSES } } },
    (request) => source.setStrictEncryption(request.body.enabled),
  );
  app.post(
    '/v1/datapath/attach',
    { schema: { body: AttachRequestSchema, response: { 200: AttachResponseSchema, ...ERROR_RESPONSES } } },
    (request) => source.setDatapathAttached(request.body.attached),
  );
};
