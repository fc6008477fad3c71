// What `lab status` knows about the running lab: the state file, the store, every agent's local
// API and the relay, gathered into one report (its `-o json` form); the CLI prints it.
import { agentRequest, type EncryptStatusResponse } from '@wirescope/agent/client';
import { labNamespaces } from './down.js';
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
import { isAlive } from './process.js';
import { CONTROL_PLANE_ADDRESS, type NodeSpec } from './spec.js';
import { readState, runningDaemons, type DaemonRecord } from './state.js';
import { withLabStore } from './store.js';
import { SUPERVISED, SUPERVISOR_DAEMON } from './supervisor.js';
import { relayStatus } from './wait.js';
import { ALERTMANAGER_URL, PROMETHEUS_URL, prometheusTargets } from './monitoring.js';
import { ALERTS_FILE, UI_URL } from './names.js';

/** A supervised daemon's restarts and deliberate stop. */
export interface Supervision {
  restarts: number;
  lastRestart?: { at: string; reason: string };
  stoppedAt?: string;
}

export interface NodeReport extends NodeSpec {
  namespace: string;
  wireguardInterface: string;
  agentSocket: string;
  agentPid: number | undefined;
  agentRunning: boolean;
  inStore: boolean;
  encrypt: EncryptStatusResponse | { error: string };
}

export interface PodReport {
  identity: number | undefined;
  name: string;
  node: string;
  ip: string;
  workload: string;
  netns: string;
  running: boolean;
}

export type RelayReport = {
  pid: number | undefined;
  running: boolean;
  namespace: string;
  address: string;
  socket: string;
  tls: string;
} & Supervision &
  ({ connectedNodes: number; unavailableNodes: string[]; numFlows: number } | { error: string });

/** `lab status -o json` of a running lab. */
export interface LabStatusReport {
  running: true;
  healthy: boolean;
  startedAt: string;
  readyAfterMs: number;
  spec: string;
  etcd: { pid: number | undefined; nodes: string[] | string };
  relay: RelayReport;
  forward: { pid: number | undefined; running: boolean; listen: string; to: string } & Supervision;
  supervisor: { pid: number | undefined; running: boolean; watches: string[]; log: string | undefined };
  monitoring: MonitoringReport;
  nodes: NodeReport[];
  pods: PodReport[];
}

/** The lab's Prometheus (its targets' health) and Alertmanager, as the root namespace reaches them. */
export interface MonitoringReport {
  prometheus: {
    url: string;
    running: boolean;
    targets: { up: number; total: number; down: string[] } | { error: string };
  };
  alertmanager: { url: string; running: boolean; webhookLog: string };
  /** The web UI (apps/ui) on loopback. */
  ui: { url: string; running: boolean };
}

/** What the text form adds to the report (not in `-o json`, as before). */
export interface LabStatusDetails {
  etcdRunning: boolean;
  /** The relay's and the forward's records, for their restart and stop lines. */
  supervised: DaemonRecord[];
  /** Recorded daemons that do not run. */
  dead: DaemonRecord[];
  tlsDir: string;
}

export type LabStatus =
  | { running: false; leftoverNamespaces: string[] }
  | { running: true; report: LabStatusReport; details: LabStatusDetails };

/** Everything `lab status` shows; a lab without a state file is not running (maybe leftovers). */
export async function labStatus(): Promise<LabStatus> {
  const state = readState();
  const namespaces = await labNamespaces();
  if (!state) return { running: false, leftoverNamespaces: namespaces };
  const { spec } = state;
  const { dead } = runningDaemons(state);
  const daemon = (name: string) => state.daemons.find((d) => d.name === name);
  let storeNodes: string[] | string;
  try {
    storeNodes = await withLabStore(async (store) => (await store.listNodes()).map((n) => n.name).sort());
  } catch (err) {
    storeNodes = `unreachable: ${(err as Error).message}`;
  }
  const nodes: NodeReport[] = [];
  for (const node of spec.nodes) {
    let encrypt: NodeReport['encrypt'];
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
  const pods = spec.pods.map((pod): PodReport => {
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
  const relay: RelayReport = {
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
  const monitoring = await monitoringReport(daemon);
  const etcd = daemon('etcd');
  const healthy = state.readyAfterMs > 0 && dead.length === 0 && Array.isArray(storeNodes);
  return {
    running: true,
    report: {
      running: true,
      healthy,
      startedAt: state.startedAt,
      readyAfterMs: state.readyAfterMs,
      spec: spec.file,
      etcd: { pid: etcd?.pid, nodes: storeNodes },
      relay,
      forward,
      supervisor,
      monitoring,
      nodes,
      pods,
    },
    details: {
      etcdRunning: etcd !== undefined && isAlive(etcd.pid),
      supervised: [relayDaemon, forwardDaemon].filter((d): d is DaemonRecord => d !== undefined),
      dead,
      tlsDir: TLS_DIR,
    },
  };
}

async function monitoringReport(
  daemon: (name: string) => DaemonRecord | undefined,
): Promise<MonitoringReport> {
  const running = (name: string) => {
    const d = daemon(name);
    return d !== undefined && isAlive(d.pid);
  };
  let targets: MonitoringReport['prometheus']['targets'];
  try {
    const list = await prometheusTargets();
    const down = list.filter((t) => t.health !== 'up').map((t) => `${t.job}/${t.node}`);
    targets = { up: list.length - down.length, total: list.length, down };
  } catch (err) {
    targets = { error: (err as Error).message };
  }
  return {
    prometheus: { url: PROMETHEUS_URL, running: running('prometheus'), targets },
    alertmanager: { url: ALERTMANAGER_URL, running: running('alertmanager'), webhookLog: ALERTS_FILE },
    ui: { url: UI_URL, running: running('ui') },
  };
}

function supervision(d: DaemonRecord | undefined): Supervision {
  return {
    restarts: d?.restarts ?? 0,
    ...(d?.lastRestart ? { lastRestart: d.lastRestart } : {}),
    ...(d?.stoppedAt ? { stoppedAt: d.stoppedAt } : {}),
  };
}
