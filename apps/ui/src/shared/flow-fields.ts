// Reading a flow in Hubble's JSON form (what `wirescope observe -o json` prints and the UI server
// sends): names, ports, verdict and, above all, its encryption state. Shared by the server's CSV
// export and the SPA's domain code.
import { reservedIdentityNames } from '@wirescope/flow/names';

export interface EndpointJson {
  ID?: number;
  identity?: number;
  namespace?: string;
  labels?: string[];
  pod_name?: string;
  workloads?: { name?: string; kind?: string }[];
}

export interface EncryptionJson {
  '@type'?: string;
  mechanism?: string;
  peer_node?: string;
  peer_public_key?: string;
  receiver_index?: number;
  leak?: boolean;
  kernel_drop_reason?: string;
  kernel_drop_reason_code?: number;
}

export interface FlowView {
  time?: string;
  uuid?: string;
  verdict?: string;
  drop_reason_desc?: string;
  IP?: { source?: string; destination?: string; ipVersion?: string; encrypted?: boolean };
  l4?: {
    TCP?: { source_port?: number; destination_port?: number; flags?: Record<string, boolean> };
    UDP?: { source_port?: number; destination_port?: number };
    ICMPv4?: { type?: number; code?: number };
    ICMPv6?: { type?: number; code?: number };
  };
  source?: EndpointJson;
  destination?: EndpointJson;
  source_names?: string[];
  destination_names?: string[];
  Type?: string;
  node_name?: string;
  event_type?: { type?: number; sub_type?: number };
  traffic_direction?: string;
  trace_observation_point?: string;
  is_reply?: boolean;
  interface?: { index?: number; name?: string };
  Summary?: string;
  egress_allowed_by?: { name?: string; namespace?: string }[];
  ingress_allowed_by?: { name?: string; namespace?: string }[];
  egress_denied_by?: { name?: string; namespace?: string }[];
  ingress_denied_by?: { name?: string; namespace?: string }[];
  extensions?: EncryptionJson;
}

/** Any JSON flow object read as a FlowView (the fields it has are Hubble's). */
export const asFlow = (value: unknown): FlowView => value as FlowView;

/** `ns/pod`, a reserved identity name, or the IP. */
export function endpointName(ep: EndpointJson | undefined, ip: string | undefined): string {
  if (ep?.pod_name) return ep.namespace ? `${ep.namespace}/${ep.pod_name}` : ep.pod_name;
  const reserved = ep?.identity !== undefined ? reservedIdentityNames[ep.identity] : undefined;
  if (reserved) return `(${reserved})${ip ? ` ${ip}` : ''}`;
  return ip ?? '?';
}

export const sourceName = (f: FlowView): string => endpointName(f.source, f.IP?.source);
export const destinationName = (f: FlowView): string => endpointName(f.destination, f.IP?.destination);

export function protocolOf(f: FlowView): string {
  if (f.l4?.TCP) return 'TCP';
  if (f.l4?.UDP) return 'UDP';
  if (f.l4?.ICMPv4) return 'ICMPv4';
  if (f.l4?.ICMPv6) return 'ICMPv6';
  return '';
}

export function destinationPort(f: FlowView): number | undefined {
  return f.l4?.TCP?.destination_port ?? f.l4?.UDP?.destination_port;
}

export function tcpFlags(f: FlowView): string {
  const flags = f.l4?.TCP?.flags;
  return flags
    ? Object.keys(flags)
        .filter((k) => flags[k])
        .join(',')
    : '';
}

/** Egress-side points: a cross-node flow seen here tells whether it left encrypted. */
const egressPoints = new Set(['FROM_ENDPOINT', 'TO_CRYPTO', 'TO_NETWORK', 'TO_OVERLAY', 'TO_STACK']);

/**
 * What a flow says about encryption:
 * - `encrypted`: the datapath put it into WireGuard (IP.encrypted / mechanism WIREGUARD);
 * - `plaintext`: cross-node pod traffic that left unencrypted, or a leak seen on the underlay;
 * - `same-node`: both ends on this node, never needs encryption;
 * - `delivered`: the receiving side of a cross-node flow after decryption (says nothing new);
 * - `unknown`: no encryption facts (e.g. a stock Hubble flow, or world traffic).
 */
export type FlowEncryption = 'encrypted' | 'plaintext' | 'same-node' | 'delivered' | 'unknown';

export function flowEncryption(f: FlowView): FlowEncryption {
  const ext = f.extensions;
  if (ext?.leak) return 'plaintext';
  if (f.IP?.encrypted || ext?.mechanism === 'MECHANISM_WIREGUARD') return 'encrypted';
  if (!ext) return 'unknown';
  // a drop sent nothing anywhere: its verdict says what happened, not an encryption state
  if (f.verdict === 'DROPPED') return 'unknown';
  if (ext.peer_node) return egressPoints.has(f.trace_observation_point ?? '') ? 'plaintext' : 'delivered';
  if (f.source?.pod_name && f.destination?.pod_name) return 'same-node';
  return 'unknown';
}

/** The node pair (sender's node, receiver's node) of a cross-node flow, when the flow tells it. */
export function nodePair(f: FlowView): { from: string; to: string } | undefined {
  const peer = f.extensions?.peer_node;
  const node = f.node_name;
  if (!peer || !node) return undefined;
  const point = f.trace_observation_point ?? '';
  const egress = egressPoints.has(point) || (f.verdict === 'DROPPED' && f.traffic_direction !== 'INGRESS');
  return egress ? { from: node, to: peer } : { from: peer, to: node };
}

/** Why it was dropped, in words: Cilium's reason or the kernel's skb_drop_reason. */
export function dropReason(f: FlowView): string {
  if (f.verdict !== 'DROPPED') return '';
  if (f.extensions?.kernel_drop_reason) return `kernel: ${f.extensions.kernel_drop_reason}`;
  return f.drop_reason_desc ?? 'DROP_REASON_UNKNOWN';
}

export function encryptionLabel(f: FlowView): string {
  const state = flowEncryption(f);
  const peer = f.extensions?.peer_node;
  if (state === 'encrypted') return `WireGuard${peer ? ` → ${peer}` : ''}`;
  if (state === 'plaintext') return f.extensions?.leak ? 'LEAK (plaintext)' : 'plaintext cross-node';
  if (state === 'delivered') return `decrypted (from ${peer})`;
  return state === 'same-node' ? 'same-node' : '';
}
