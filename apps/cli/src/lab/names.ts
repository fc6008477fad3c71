import { createHash } from 'node:crypto';
import type { PodSpec } from './spec.js';

/** Everything the lab creates carries this prefix (namespaces, files, wireguard-go sockets). */
export const PREFIX = 'wsl';
export const LAB_DIR = '/run/wirescope-lab';
export const STATE_FILE = `${LAB_DIR}/state.json`;
export const LOG_DIR = `${LAB_DIR}/logs`;
export const PID_DIR = `${LAB_DIR}/pids`;
export const SOCKET_DIR = `${LAB_DIR}/sockets`;
export const WIREGUARD_SOCKET_DIR = '/var/run/wireguard';

export const FABRIC_NS = `${PREFIX}-fabric`;
export const CONTROL_PLANE_NS = `${PREFIX}-cp`;
export const FABRIC_BRIDGE = 'br0';
export const ETCD_PORT = 2379;
export const WIREGUARD_PORT = 51871;

export const nodeNamespace = (node: string): string => `${PREFIX}-${node}`;
export const podNamespace = (pod: Pick<PodSpec, 'node' | 'namespace' | 'name'>): string =>
  `${PREFIX}-${pod.node}-${pod.namespace}-${pod.name}`;
/** Unique per lab node: wireguard-go's UAPI socket directory is shared by every namespace. */
export const wireguardInterface = (node: string): string => `${PREFIX}-wg-${node}`;
/** The node's leg on the fabric bridge, as seen inside the fabric namespace. */
export const fabricPort = (node: string): string => `fab-${node}`;
/** Host-side pod veth, Cilium-style: lxc + a short stable hash of the pod's identity. */
export const lxcInterface = (pod: Pick<PodSpec, 'namespace' | 'name'>): string =>
  `lxc${createHash('sha256').update(`${pod.namespace}/${pod.name}`).digest('hex').slice(0, 8)}`;
export const agentDir = (node: string): string => `${LAB_DIR}/${node}`;
export const agentSocket = (node: string): string => `${agentDir(node)}/agent.sock`;
export const etcdForwardSocket = `${SOCKET_DIR}/etcd.sock`;
/** The lab's CA and certificates (agents, relay, CLI); see tls.ts. */
export const TLS_DIR = `${LAB_DIR}/tls`;
/** Agents serve the Hubble Observer API on their underlay address (TLS) and a plain unix socket. */
export const HUBBLE_PORT = 4244;
export const hubbleSocket = (node: string): string => `${agentDir(node)}/hubble.sock`;
/** The relay runs in the control-plane namespace: TLS on 4245 there, plain on this unix socket. */
export const RELAY_PORT = 4245;
export const RELAY_SOCKET = `${LAB_DIR}/relay.sock`;
/** Where the root namespace reaches the relay (plain gRPC on loopback, like a kubectl port-forward). */
export const RELAY_FORWARD_PORT = 4245;
