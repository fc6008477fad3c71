import { agentRequest, type EncryptStatusResponse } from '@wirescope/agent';
import {
  CONTROL_PLANE_NS,
  RELAY_FORWARD_PORT,
  RELAY_PORT,
  RELAY_SOCKET,
  TLS_DIR,
  agentDaemon,
  agentSocket,
  nodeNamespace,
  podNamespace,
  wireguardInterface,
} from './names.js';
import { labNamespaces, relayStatus, runningDaemons, withLabStore } from './lab.js';
import { CONTROL_PLANE_ADDRESS } from './spec.js';
import { readState, type DaemonRecord } from './state.js';
import { isAlive } from './process.js';
import { SUPERVISED, SUPERVISOR_DAEMON, restartSummary } from './supervisor.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined) return 'never';
  if (seconds < 120) return `${seconds}s ago`;
  return `${Math.round(seconds / 60)}m ago`;
}

type NodeEncryptStatus = EncryptStatusResponse;

/**
 * What `encrypt status` prints: an agent's /v1/encrypt, or the relay's view (no MTU, no keepalive,
 * no underlay address or pod CIDR).
 */
export type NodeEncryptView = Omit<
  NodeEncryptStatus,
  'mtu' | 'peers' | 'observedAt' | 'underlayIP' | 'podCIDR'
> & {
  underlayIP?: string;
  podCIDR?: string;
  mtu?: number;
  observedAt?: string | undefined;
  /** What is wrong with the node's encryption (its device is down), as its agent reports it. */
  degraded?: string | undefined;
  peers: (Omit<NodeEncryptStatus['peers'][number], 'persistentKeepalive'> & {
    persistentKeepalive?: number;
  })[];
};

function interfaceLine(status: NodeEncryptView): string {
  return `${status.node}: ${status.mechanism} interface ${status.interface} port ${status.listenPort}${status.mtu === undefined ? '' : ` mtu ${status.mtu}`}`;
}

function peerLine(p: NodeEncryptView['peers'][number]): string {
  return (
    `${(p.node ?? '(unknown node)').padEnd(8)} endpoint ${p.endpoint ?? '(none)'}  allowed-ips ${p.allowedIPs.join(',')}  ` +
    `handshake ${formatAge(p.handshakeAgeSeconds)}  rx ${formatBytes(p.rxBytes)}  tx ${formatBytes(p.txBytes)}` +
    (p.staleSince ? `  STALE (its agent is gone since ${p.staleSince}; peer kept)` : '')
  );
}

/** `wg show`-like lines for one node's encryption status. */
export function formatEncryptStatus(status: NodeEncryptView): string[] {
  const lines = [
    interfaceLine(status),
    ...(status.degraded ? [`  DEGRADED: ${status.degraded}`] : []),
    `  public key: ${status.publicKey}`,
    `  peers: ${status.peers.length}`,
  ];
  for (const p of status.peers) lines.push(`    ${peerLine(p)}`, `             key ${p.publicKey}`);
  if (status.observedAt) lines.push(`  observed at ${status.observedAt}`);
  return lines;
}

export async function labStatus(output: 'text' | 'json'): Promise<number> {
  const state = readState();
  const namespaces = await labNamespaces();
  if (!state) {
    const leftovers =
      namespaces.length > 0 ? ` (${namespaces.length} leftover namespaces: run 'wirescope lab down')` : '';
    if (output === 'json') console.log(JSON.stringify({ running: false, leftoverNamespaces: namespaces }));
    else console.log(`lab is not running${leftovers}`);
    return 1;
  }
  const { spec } = state;
  const { dead } = runningDaemons(state);
  const daemon = (name: string) => state.daemons.find((d) => d.name === name);
  let storeNodes: string[] | string;
  try {
    storeNodes = await withLabStore(async (store) => (await store.listNodes()).map((n) => n.name).sort());
  } catch (err) {
    storeNodes = `unreachable: ${(err as Error).message}`;
  }
  const nodes = [];
  for (const node of spec.nodes) {
    let encrypt: NodeEncryptStatus | { error: string };
    try {
      encrypt = await agentRequest(agentSocket(node.name), 'GET', '/v1/encrypt');
    } catch (err) {
      encrypt = { error: (err as Error).message };
    }
    const agent = daemon(agentDaemon(node.name));
    nodes.push({
      ...node,
      namespace: nodeNamespace(node.name),
      wireguardInterface: wireguardInterface(node.name),
      agentSocket: agentSocket(node.name),
      agentPid: agent?.pid,
      agentRunning: agent ? isAlive(agent.pid) : false,
      inStore: Array.isArray(storeNodes) && storeNodes.includes(node.name),
      encrypt,
    });
  }
  // Security identities as the node agents allocated them (cluster-wide, per label set).
  const identities = new Map<string, number>();
  for (const node of spec.nodes) {
    try {
      const { endpoints } = await agentRequest(agentSocket(node.name), 'GET', '/v1/endpoints');
      for (const e of endpoints)
        if (e.identity !== undefined) identities.set(`${e.namespace}/${e.pod}`, e.identity);
    } catch {
      // The node's agent is down: its pods show no identity; the NODES section says why.
    }
  }
  const pods = spec.pods.map((pod) => {
    const d = daemon(`pod-${pod.namespace}-${pod.name}`);
    return {
      identity: identities.get(`${pod.namespace}/${pod.name}`),
      name: `${pod.namespace}/${pod.name}`,
      node: pod.node,
      ip: pod.ip,
      workload: pod.workload.kind,
      netns: podNamespace(pod),
      running:
        pod.workload.kind === 'none'
          ? namespaces.includes(podNamespace(pod))
          : d !== undefined && isAlive(d.pid),
    };
  });
  const relayDaemon = daemon('relay');
  const forwardDaemon = daemon('relay-forward');
  let relayView: { connectedNodes: number; unavailableNodes: string[]; numFlows: number } | { error: string };
  try {
    const r = await relayStatus(RELAY_SOCKET, 1500);
    relayView = {
      connectedNodes: r.numConnectedNodes ?? 0,
      unavailableNodes: r.unavailableNodes,
      numFlows: Number(r.numFlows),
    };
  } catch (err) {
    relayView = { error: (err as Error).message.split('\n')[0] ?? '' };
  }
  const relay = {
    pid: relayDaemon?.pid,
    running: relayDaemon ? isAlive(relayDaemon.pid) : false,
    namespace: CONTROL_PLANE_NS,
    address: `${CONTROL_PLANE_ADDRESS}:${RELAY_PORT}`,
    socket: RELAY_SOCKET,
    tls: TLS_DIR,
    ...supervision(relayDaemon),
    ...relayView,
  };
  const forward = {
    pid: forwardDaemon?.pid,
    running: forwardDaemon ? isAlive(forwardDaemon.pid) : false,
    listen: `127.0.0.1:${RELAY_FORWARD_PORT}`,
    to: RELAY_SOCKET,
    ...supervision(forwardDaemon),
  };
  const supervisorDaemon = daemon(SUPERVISOR_DAEMON);
  const supervisor = {
    pid: supervisorDaemon?.pid,
    running: supervisorDaemon ? isAlive(supervisorDaemon.pid) : false,
    watches: [...SUPERVISED],
    log: supervisorDaemon?.log,
  };
  const etcd = daemon('etcd');
  const healthy = state.readyAfterMs > 0 && dead.length === 0 && Array.isArray(storeNodes);
  if (output === 'json') {
    console.log(
      JSON.stringify(
        {
          running: true,
          healthy,
          startedAt: state.startedAt,
          readyAfterMs: state.readyAfterMs,
          spec: spec.file,
          etcd: { pid: etcd?.pid, nodes: storeNodes },
          relay,
          forward,
          supervisor,
          nodes,
          pods,
        },
        null,
        2,
      ),
    );
    return healthy ? 0 : 1;
  }
  const lines = [
    state.readyAfterMs > 0
      ? `lab ${healthy ? 'running' : 'DEGRADED'} since ${state.startedAt} (ready in ${(state.readyAfterMs / 1000).toFixed(1)}s), spec ${spec.file}`
      : `lab STARTING (or a crashed start) since ${state.startedAt}, spec ${spec.file}`,
    `etcd: pid ${etcd?.pid ?? '-'} ${etcd && isAlive(etcd.pid) ? 'running' : 'NOT RUNNING'}; nodes in store: ${Array.isArray(storeNodes) ? storeNodes.join(', ') : storeNodes}`,
    `relay: pid ${relay.pid ?? '-'} ${relay.running ? 'running' : 'NOT RUNNING'} in ${relay.namespace}, mTLS ${relay.address}, plain ${relay.socket}; ` +
      ('error' in relay
        ? `unreachable: ${relay.error}`
        : `agents connected ${relay.connectedNodes}/${spec.nodes.length}` +
          (relay.unavailableNodes.length > 0 ? ` (unavailable: ${relay.unavailableNodes.join(', ')})` : '')),
    `forward: ${forward.listen} -> ${forward.to}, pid ${forward.pid ?? '-'} ${forward.running ? 'running' : 'NOT RUNNING'} ` +
      `(npx wirescope observe -f; npx wirescope status)`,
    `supervisor: pid ${supervisor.pid ?? '-'} ${supervisor.running ? 'running' : 'NOT RUNNING'}, restarts ${SUPERVISED.join(' and ')} when they die`,
    ...[relayDaemon, forwardDaemon].flatMap((d) => supervisionLine(d)),
    `certificates: ${TLS_DIR} (CA ca.crt; CLI cli-client.crt/.key)`,
    '',
    'NODES',
  ];
  // Node names run up to 253 characters: columns as wide as this lab's longest, at least the old 8.
  const nodeWidth = Math.max(8, ...nodes.map((n) => n.name.length));
  for (const n of nodes) {
    lines.push(
      `  ${n.name.padEnd(nodeWidth)} ${n.address.padEnd(12)} pods ${n.podCIDR.padEnd(15)} agent ${n.agentRunning ? `pid ${n.agentPid}` : 'NOT RUNNING'}`,
    );
    if ('error' in n.encrypt) lines.push(`    encrypt status unavailable: ${n.encrypt.error}`);
    else lines.push(`    ${interfaceLine(n.encrypt)}`, ...n.encrypt.peers.map((p) => `      ${peerLine(p)}`));
  }
  lines.push('', 'PODS');
  for (const p of pods) {
    lines.push(
      `  ${p.name.padEnd(22)} ${p.node.padEnd(nodeWidth)} ${p.ip.padEnd(13)} ${`ID:${p.identity ?? '-'}`.padEnd(9)} ${p.workload.padEnd(12)} ${p.running ? 'running' : 'NOT RUNNING'}`,
    );
  }
  if (dead.length > 0)
    lines.push('', `not running: ${dead.map((d) => `${d.name} (log ${d.log})`).join(', ')}`);
  console.log(lines.join('\n'));
  return healthy ? 0 : 1;
}

/** What `lab status -o json` says about a supervised daemon's restarts and deliberate stop. */
function supervision(d: DaemonRecord | undefined): {
  restarts: number;
  lastRestart?: { at: string; reason: string };
  stoppedAt?: string;
} {
  return {
    restarts: d?.restarts ?? 0,
    ...(d?.lastRestart ? { lastRestart: d.lastRestart } : {}),
    ...(d?.stoppedAt ? { stoppedAt: d.stoppedAt } : {}),
  };
}

function supervisionLine(d: DaemonRecord | undefined): string[] {
  if (!d) return [];
  const parts = [
    ...(d.restarts ? [restartSummary(d)] : []),
    ...(d.stoppedAt
      ? [`stopped on purpose at ${d.stoppedAt} (not restarted until 'lab start ${d.name}')`]
      : []),
  ];
  return parts.length > 0 ? [`  ${d.name}: ${parts.join('; ')}`] : [];
}
