export type { AgentConfig, WireguardMechanism } from './config.js';
export { parseAgentFlags, AGENT_USAGE } from './config.js';
export { AgentError, AgentErrorCode } from './errors.js';
export type { ClusterStore, NodeRecord, EndpointRecord, Unsubscribe } from './store/types.js';
export { EtcdClusterStore, KEYS } from './store/etcd.js';
export { RESERVED_IDENTITIES, FIRST_ALLOCATED_IDENTITY, canonicalLabels } from './store/identity.js';
export type { EncryptStatus, PeerStatus } from './wireguard/manager.js';
export { parseWgDump } from './wireguard/dump.js';
export { publicKeyOf } from './wireguard/keys.js';
export { agentRequest, AgentRequestError, type AgentRoutes, type AgentRequestOptions } from './api/client.js';
// The local API's contract: what each route answers (and takes), for the CLI, the lab and tests.
export type { ErrorResponse } from './api/errors.js';
export type { HealthResponse } from './api/health.js';
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
export {
  parseCidr,
  parseIPv4,
  formatIPv4,
  cidrsOverlap,
  cidrContains,
  cidrSize,
  isDnsSubdomain,
  type Cidr,
} from './net.js';
export { processRuns } from './process.js';
