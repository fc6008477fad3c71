import { createHash } from 'node:crypto';
import type { PodSpec } from './spec.js';

/** Everything the lab creates carries this prefix (namespaces, files, wireguard-go sockets). */
export const PREFIX = 'wsl';
export const LAB_DIR = '/run/wirescope-lab';
export const STATE_FILE = `${LAB_DIR}/state.json`;
export const LOG_DIR = `${LAB_DIR}/logs`;
export const PID_DIR = `${LAB_DIR}/pids`;
export const SOCKET_DIR = `${LAB_DIR}/sockets`;
export const ETCD_DATA_DIR = `${LAB_DIR}/etcd`;
export const DNS_ZONE_FILE = `${LAB_DIR}/dns-zone.json`;
/** The machine's own values of the host settings the lab raised (host-sysctl.ts), for `lab down`. */
export const HOST_SYSCTL_FILE = `${LAB_DIR}/host-sysctl.json`;
/**
 * The lab's own bpffs, mounted in the root mount namespace before the agents start: each agent
 * runs in a mount namespace of its own (`ip netns exec`), and a bpffs it mounted there would go
 * with it, taking the TCX links it pinned along. This one outlives an agent, as a host's
 * /sys/fs/bpf does, so that a killed agent's links keep running until its successor takes them over.
 */
export const LAB_BPFFS = `${LAB_DIR}/bpffs`;
export const WIREGUARD_SOCKET_DIR = '/var/run/wireguard';

export const FABRIC_NS = `${PREFIX}-fabric`;
export const CONTROL_PLANE_NS = `${PREFIX}-cp`;
export const FABRIC_BRIDGE = 'br0';
export const ETCD_PORT = 2379;
export const WIREGUARD_PORT = 51871;

/** IFNAMSIZ - 1: the kernel refuses longer interface names. */
export const MAX_INTERFACE_NAME = 15;
/** A unix socket path must fit sun_path (108 bytes with its terminating NUL). */
export const MAX_SOCKET_PATH = 107;
/** A DNS label's length: node keys at most this long keep every path under /run short. */
const MAX_NODE_KEY = 63;
const HASH_HEX = 4;

/**
 * What a derived name may contain. Interface names get no ".": sysctl's dotted notation
 * (net.ipv4.conf.<if>.proxy_arp) would read it as a separator.
 */
const CHARSETS = {
  interface: { whole: /^[a-z0-9-]*$/, other: /[^a-z0-9-]/g },
  file: { whole: /^[a-z0-9.-]*$/, other: /[^a-z0-9.-]/g },
} as const;

/**
 * The one derivation of a lab name from a user-chosen one (a node name is any DNS-1123 subdomain,
 * up to 253 characters): `prefix + name` when that fits in `max` bytes and uses only the charset's
 * characters, so short names stay exactly as written (wsl-wg-node1, wsl-wg-worker-1); otherwise
 * `prefix`, the name's first characters (others turned into "-"), "-" and the first 4 hex digits
 * of SHA-256(name): wsl-wg-ip-10-0-1-12.ec2.internal becomes wsl-wg-ip-<hash>, worker-10 and
 * worker-11 become wsl-wg-wor-<hash> with different hashes. The hash is of the whole name, so the
 * result is stable across runs; a clash between two names of one lab (about 1 in 65536 per pair
 * sharing a prefix) is refused by the spec check (derivedNameClashes), never silently shared.
 */
export function fitName(
  prefix: string,
  name: string,
  max: number,
  charset: keyof typeof CHARSETS = 'interface',
): string {
  const { whole, other } = CHARSETS[charset];
  if (prefix.length + name.length <= max && whole.test(name)) return `${prefix}${name}`;
  const room = max - prefix.length - HASH_HEX - 1;
  if (room < 0) throw new Error(`no room for a name after "${prefix}" in ${max} bytes`);
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_HEX);
  const head = name
    .replace(other, '-')
    .slice(0, room)
    .replace(/[-.]+$/, '');
  return `${prefix}${head ? `${head}-` : ''}${hash}`;
}

/**
 * A node's name in paths, namespaces and process names: the node name itself unless it is longer
 * than a DNS label (then shortened by fitName), so /run/wirescope-lab/<key>/hubble.sock fits sun_path.
 */
export const nodeKey = (node: string): string => fitName('', node, MAX_NODE_KEY, 'file');
export const nodeNamespace = (node: string): string => `${PREFIX}-${nodeKey(node)}`;
export const podNamespace = (pod: Pick<PodSpec, 'node' | 'namespace' | 'name'>): string =>
  `${PREFIX}-${nodeKey(pod.node)}-${pod.namespace}-${pod.name}`;
/** Unique per lab node: wireguard-go's UAPI socket directory is shared by every namespace. */
export const wireguardInterface = (node: string): string =>
  fitName(`${PREFIX}-wg-`, node, MAX_INTERFACE_NAME);
/** The node's leg on the fabric bridge, as seen inside the fabric namespace. */
export const fabricPort = (node: string): string => fitName('fab-', node, MAX_INTERFACE_NAME);
/** The control plane's leg on the fabric ("cp" is no node's: derivedNameClashes keeps it so). */
export const CONTROL_PLANE_PORT = 'fab-cp';
/** Host-side pod veth, Cilium-style: lxc + a short stable hash of the pod's identity. */
export const lxcInterface = (pod: Pick<PodSpec, 'namespace' | 'name'>): string =>
  `lxc${createHash('sha256').update(`${pod.namespace}/${pod.name}`).digest('hex').slice(0, 8)}`;
/** The lab process running a node's agent (what `lab stop|start` take). */
export const agentDaemon = (node: string): string => `agent-${nodeKey(node)}`;
export const agentDir = (node: string): string => `${LAB_DIR}/${nodeKey(node)}`;
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
/**
 * The web UI (apps/ui) in the control plane, a client of the relay over mTLS like the CLI's, on
 * 127.0.0.1:UI_PORT there, forwarded to the same port on the root namespace's loopback.
 */
export const UI_PORT = 12000;
export const UI_URL = `http://127.0.0.1:${UI_PORT}`;
/** Prometheus metrics: every agent on its node's addresses, the relay in the control plane. */
export const AGENT_METRICS_PORT = 9965;
export const RELAY_METRICS_PORT = 9966;
/** The lab's Prometheus, Alertmanager and webhook receiver (control plane), forwarded to loopback. */
export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
export const ALERT_RECEIVER_PORT = 9095;
export const MONITORING_DIR = `${LAB_DIR}/monitoring`;
/** Every webhook delivery of the lab's Alertmanager, one JSON body a line. */
export const ALERTS_FILE = `${MONITORING_DIR}/alerts.jsonl`;
export const PROMETHEUS_SOCKET = `${SOCKET_DIR}/prometheus.sock`;
export const ALERTMANAGER_SOCKET = `${SOCKET_DIR}/alertmanager.sock`;
export const UI_SOCKET = `${SOCKET_DIR}/ui.sock`;

/** A socket under SOCKET_DIR for a process named `name`, its path short enough for sun_path. */
export const socketIn = (name: string): string =>
  `${SOCKET_DIR}/${fitName('', name, MAX_SOCKET_PATH - SOCKET_DIR.length - '/.sock'.length, 'file')}.sock`;

/** Entries of LAB_DIR that are the lab's own, so that no node's directory may take their name. */
const LAB_DIR_ENTRIES = [
  STATE_FILE,
  LOG_DIR,
  PID_DIR,
  SOCKET_DIR,
  ETCD_DATA_DIR,
  DNS_ZONE_FILE,
  HOST_SYSCTL_FILE,
  TLS_DIR,
  RELAY_SOCKET,
  MONITORING_DIR,
];

export interface NameClash {
  /** Which spec entry's name to blame: nodes[index] or pods[index]. */
  list: 'nodes' | 'pods';
  index: number;
  message: string;
}

/**
 * Every derived name must belong to one thing only: two nodes on one WireGuard interface name (and
 * so one wireguard-go socket), a node named "cp" or "fabric" on the lab's own namespaces, a node
 * named "logs" on the lab's log directory. Returns each clash, blaming the later entry.
 */
export function derivedNameClashes(
  nodes: readonly string[],
  pods: readonly Pick<PodSpec, 'node' | 'namespace' | 'name'>[],
): NameClash[] {
  const owners = new Map<string, string>([
    [`network namespace\0${FABRIC_NS}`, 'the fabric'],
    [`network namespace\0${CONTROL_PLANE_NS}`, 'the control plane'],
    [`fabric port\0${CONTROL_PLANE_PORT}`, 'the control plane'],
    ...LAB_DIR_ENTRIES.map((path): [string, string] => [`path\0${path}`, 'the lab itself']),
  ]);
  const clashes: NameClash[] = [];
  const claim = (list: NameClash['list'], index: number, owner: string, kind: string, name: string) => {
    const key = `${kind}\0${name}`;
    const holder = owners.get(key);
    if (holder === undefined) owners.set(key, owner);
    else clashes.push({ list, index, message: `its ${kind} ${name} is already ${holder}'s; rename it` });
  };
  nodes.forEach((node, i) => {
    const owner = `node ${node}`;
    claim('nodes', i, owner, 'network namespace', nodeNamespace(node));
    claim('nodes', i, owner, 'WireGuard interface', wireguardInterface(node));
    claim('nodes', i, owner, 'fabric port', fabricPort(node));
    claim('nodes', i, owner, 'path', agentDir(node));
  });
  pods.forEach((pod, i) => {
    const owner = `pod ${pod.namespace}/${pod.name}`;
    claim('pods', i, owner, 'network namespace', podNamespace(pod));
    claim('pods', i, owner, 'pod interface', lxcInterface(pod));
  });
  return clashes;
}
