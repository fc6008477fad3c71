import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ERROR_RESPONSES } from './errors.js';

const DirectionSchema = Type.Object({
  active: Type.Boolean({ description: 'some rule selecting the endpoint has this direction' }),
  enforced: Type.Boolean({ description: 'default deny: only what a rule allows passes' }),
  enforcedBy: Type.Array(Type.String()),
});

/** This node's endpoints as policy sees them, and the policy set they were compiled from. */
export const PolicyStatusResponseSchema = Type.Object({
  node: Type.String(),
  revision: Type.Integer(),
  policies: Type.Array(
    Type.Object({
      kind: Type.String(),
      namespace: Type.String(),
      name: Type.String(),
      revision: Type.Integer(),
    }),
  ),
  rejected: Type.Array(Type.String()),
  auditMode: Type.Boolean(),
  auditEndpoints: Type.Array(Type.String()),
  endpoints: Type.Array(
    Type.Object({
      endpoint: Type.String({ description: 'namespace/pod' }),
      interface: Type.String(),
      ingress: DirectionSchema,
      egress: DirectionSchema,
      audit: Type.Boolean(),
      requireEncryption: Type.Array(Type.String()),
      entries: Type.Integer(),
    }),
  ),
});
export type PolicyStatusResponse = Static<typeof PolicyStatusResponseSchema>;

export const AuditRequestSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    endpoint: Type.Optional(
      Type.String({ pattern: '^[^/]+/[^/]+$', description: 'namespace/pod; absent: the whole agent' }),
    ),
  },
  { additionalProperties: false },
);
export type AuditRequest = Static<typeof AuditRequestSchema>;

export const AuditResponseSchema = Type.Object({
  node: Type.String(),
  auditMode: Type.Boolean(),
  auditEndpoints: Type.Array(Type.String()),
});
export type AuditResponse = Static<typeof AuditResponseSchema>;

export interface PolicySource {
  policyStatus(): PolicyStatusResponse;
  setPolicyAudit(request: AuditRequest): Promise<AuditResponse>;
}

/** GET /v1/policy, POST /v1/policy/audit */
export const policyPlugin: FastifyPluginAsyncTypebox<{ source: PolicySource }> = async (app, { source }) => {
  app.get(
    '/v1/policy',
    { schema: { response: { 200: PolicyStatusResponseSchema, ...ERROR_RESPONSES } } },
    () => source.policyStatus(),
  );
  app.post(
    '/v1/policy/audit',
    { schema: { body: AuditRequestSchema, response: { 200: AuditResponseSchema, ...ERROR_RESPONSES } } },
    (request) => source.setPolicyAudit(request.body),
  );
};
