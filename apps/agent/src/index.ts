export type { AgentConfig, WireguardMechanism } from './config.js';
export { parseAgentFlags, AGENT_USAGE } from './config.js';
export { AgentError, AgentErrorCode } from './errors.js';
export type { ClusterStore, NodeRecord, EndpointRecord, PolicyRecord, Unsubscribe } from './store/types.js';
export { EtcdClusterStore, KEYS } from './store/etcd.js';
export { RESERVED_IDENTITIES, FIRST_ALLOCATED_IDENTITY, canonicalLabels } from './store/identity.js';
export type { EncryptStatus, PeerStatus } from './wireguard/manager.js';
export { parseWgDump } from './wireguard/dump.js';
export { publicKeyOf } from './wireguard/keys.js';
// The local API's client and contract (also alone, without the rest of the agent: ./client).
export * from './client.js';
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
