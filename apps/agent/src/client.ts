// `@wirescope/agent/client`: the local API's client and its contract (what each route takes and
// answers), for the CLI, the lab and tests. Loading it loads nothing else of the agent (no native
// addon, no fastify): the types are erased and the client is node:http only.
export {
  agentRequest,
  AgentRequestError,
  onLines,
  type AgentRoutes,
  type AgentRequestOptions,
} from './api/client.js';
export type { ErrorResponse } from './api/errors.js';
export type { HealthResponse } from './api/health.js';
export type { PolicyStatusResponse, AuditRequest, AuditResponse } from './api/policy.js';
export type { PolicyRecord } from './store/types.js';
export type { EncryptStatusResponse, RotateKeyResponse } from './api/encrypt.js';
export type { EndpointsResponse } from './api/endpoints.js';
export type { FlowsResponse, HandshakesResponse, FollowLine, LastQuery } from './api/flows.js';
export type {
  DatapathStatusResponse,
  FlowCountersResponse,
  StrictRequest,
  StrictResponse,
  AttachRequest,
  AttachResponse,
} from './api/datapath.js';
