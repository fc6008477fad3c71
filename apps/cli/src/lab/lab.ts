import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdClusterStore, agentRequest, type EncryptStatusResponse } from '@wirescope/agent';
import { create } from '@bufbuild/protobuf';
import { ServerStatusRequestSchema, type ServerStatusResponse } from '@wirescope/flow';
import { makeClient, methods, unary } from '@wirescope/observer';
import * as grpc from '@grpc/grpc-js';
import { CONTROL_PLANE_ADDRESS, type LabSpec } from './spec.js';
import {
  CONTROL_PLANE_NS,
  ETCD_PORT,
  HUBBLE_PORT,
  LAB_DIR,
  LOG_DIR,
  PID_DIR,
  PREFIX,
  RELAY_FORWARD_PORT,
  RELAY_PORT,
  RELAY_SOCKET,
  SOCKET_DIR,
  WIREGUARD_PORT,
  WIREGUARD_SOCKET_DIR,
  DNS_ZONE_FILE,
  ETCD_DATA_DIR,
  agentDaemon,
  agentDir,
  agentSocket,
  etcdForwardSocket,
  hubbleSocket,
  lxcInterface,
  nodeNamespace,
  podNamespace,
  wireguardInterface,
} from './names.js';
import { createTopology } from './topology.js';
import { run, startDaemon, type Daemon } from './shell.js';
import { isAlive } from './process.js';
import { withLabLock } from './lock.js';
import { LabError } from './errors.js';

export { LabError };
import { listenLoopback, startNamespaceForward } from './forward.js';
import { readState, writeState, type DaemonRecord, type LabState } from './state.js';
import { SUPERVISED, SUPERVISOR_DAEMON } from './supervisor.js';
import { createLabPki, labPkiPaths } from './tls.js';

export type Progress = (message: string) => void;

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const WORKLOADS = join(REPO_ROOT, 'lab', 'workloads');
const AGENT_MAIN = fileURLToPath(new URL('./main.js', import.meta.resolve('@wirescope/agent')));
const RELAY_MAIN = join(REPO_ROOT, 'apps', 'relay', 'dist', 'bin.js');
const LOOPBACK_MAIN = fileURLToPath(new URL('./loopback-main.js', import.meta.url));
const SUPERVISOR_MAIN = fileURLToPath(new URL('./supervisor-main.js', import.meta.url));

export type UpResult =
  { status: 'started'; state: LabState } | { status: 'already-running'; state: LabState };

/** Lab namespaces present on the machine (ours by prefix), whether or not a state file exists. */
export async function labNamespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${PREFIX}-`));
}

export function runningDaemons(state: LabState): { alive: Daemon[]; dead: Daemon[] } {
  const alive = state.daemons.filter((d) => isAlive(d.pid));
  return { alive, dead: state.daemons.filter((d) => !alive.includes(d)) };
}

/** Connects to the lab's etcd through a loopback forward (never to a lab address). */
export async function withLabStore<T>(fn: (store: EtcdClusterStore) => Promise<T>): Promise<T> {
  const forward = await listenLoopback(0, etcdForwardSocket);
  const store = new EtcdClusterStore({
    endpoints: [`http://127.0.0.1:${forward.port}`],
    callTimeoutMs: 2000,
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
    forward.close();
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      // A LabError says waiting cannot help (a daemon exited): fail now, not at the timeout.
      if (err instanceof LabError) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `: ${lastError}` : ''}`,
  );
}

const REQUIRED_PROGRAMS = ['ip', 'etcd', 'etcdctl', 'wg', 'wireguard-go', 'sysctl', 'openssl'];

/** What keeps the lab from starting on this machine (not root, missing programs); empty when fine. */
export async function preflightProblems(): Promise<string[]> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0)
    problems.push('must run as root (network namespaces): sudo npx wirescope lab up');
  const missing: string[] = [];
  for (const program of REQUIRED_PROGRAMS) {
    const found = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
      .split(':')
      .some((dir) => existsSync(join(dir, program)));
    if (!found) missing.push(program);
  }
  if (missing.length > 0)
    problems.push(`missing programs: ${missing.join(', ')}; install them with: bash scripts/setup.sh`);
  if (!existsSync(AGENT_MAIN)) problems.push(`agent not built (${AGENT_MAIN}); run: npx turbo run build`);
  if (!existsSync(RELAY_MAIN)) problems.push(`relay not built (${RELAY_MAIN}); run: npx turbo run build`);
  return problems;
}

export function labUp(spec: LabSpec, progress: Progress): Promise<UpResult> {
  return withLabLock(() => labUpLocked(spec, progress), progress);
}

async function labUpLocked(spec: LabSpec, progress: Progress): Promise<UpResult> {
  const existing = readState();
  // readyAfterMs 0: a `lab up` that never finished (it held the lock, so it crashed): leftovers.
  if (
    existing &&
    existing.readyAfterMs > 0 &&
    runningDaemons(existing).dead.length === 0 &&
    (await labNamespaces()).length > 0
  ) {
    return { status: 'already-running', state: existing };
  }
  const started = Date.now();
  const step = (message: string) =>
    progress(`[${((Date.now() - started) / 1000).toFixed(1).padStart(4)}s] ${message}`);
  if (existing || (await labNamespaces()).length > 0 || existsSync(LAB_DIR)) {
    const removed = await labDownLocked();
    step(
      `removed leftovers of a previous run (${removed.namespaces.length} namespaces, ${removed.processes} processes)`,
    );
  }
  for (const dir of [LAB_DIR, LOG_DIR, PID_DIR, SOCKET_DIR]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const daemons: Daemon[] = [];
  const save = (readyAfterMs: number) =>
    writeState({ startedAt: new Date(started).toISOString(), readyAfterMs, spec, daemons });
  try {
    await createLabPki(spec);
    step('lab CA and certificates (agents, relay, CLI) created');
    await createTopology(spec, step);

    daemons.push(
      startDaemon('etcd', CONTROL_PLANE_NS, [
        'etcd',
        '--name',
        `${PREFIX}-cp`,
        '--data-dir',
        ETCD_DATA_DIR,
        '--listen-client-urls',
        `http://${CONTROL_PLANE_ADDRESS}:${ETCD_PORT},http://127.0.0.1:${ETCD_PORT}`,
        '--advertise-client-urls',
        `http://${CONTROL_PLANE_ADDRESS}:${ETCD_PORT}`,
        '--listen-peer-urls',
        'http://127.0.0.1:2380',
        '--initial-advertise-peer-urls',
        'http://127.0.0.1:2380',
        '--initial-cluster',
        `${PREFIX}-cp=http://127.0.0.1:2380`,
        '--log-level',
        'warn',
      ]),
      startNamespaceForward('forward-etcd', CONTROL_PLANE_NS, etcdForwardSocket, '127.0.0.1', ETCD_PORT),
    );
    save(0);
    // Plain HTTP /health through the forward first: a gRPC client created before etcd listens
    // would sit in reconnect backoff for seconds.
    await waitFor('etcd to report healthy', 15_000, () => etcdHealthy());
    await withLabStore(async (store) => {
      await store.ping();
      step(`etcd up in ${CONTROL_PLANE_NS} at ${CONTROL_PLANE_ADDRESS}:${ETCD_PORT}`);
      // The CNI step: every pod's endpoint (IP, labels, node, host-side interface, netns) into the store.
      for (const pod of spec.pods) {
        await store.putEndpoint({
          namespace: pod.namespace,
          pod: pod.name,
          node: pod.node,
          ip: pod.ip,
          interface: lxcInterface(pod),
          labels: { ...pod.labels, 'io.kubernetes.pod.namespace': pod.namespace },
          netns: `/run/netns/${podNamespace(pod)}`,
        });
      }
      step(`registered ${spec.pods.length} endpoints`);
    });

    for (const node of spec.nodes) {
      mkdirSync(agentDir(node.name), { recursive: true, mode: 0o700 });
      daemons.push(startAgent(node));
    }
    save(0);
    step(`started ${spec.nodes.length} agents`);
    // generous: a loaded machine slows agent start-up (BPF verifier, wireguard-go); a dead
    // agent fails this at once anyway
    await waitForMesh(
      spec,
      30_000,
      0,
      daemons.filter((d) => d.name.startsWith('agent-')),
    );
    step('WireGuard full mesh: every node pair has completed a handshake');

    daemons.push(
      startRelay(spec),
      startDaemon('relay-forward', '', [
        process.execPath,
        LOOPBACK_MAIN,
        String(RELAY_FORWARD_PORT),
        RELAY_SOCKET,
      ]),
    );
    save(0);
    await waitForRelay(spec, daemons, 20_000);
    step(
      `relay in ${CONTROL_PLANE_NS} (mTLS ${CONTROL_PLANE_ADDRESS}:${RELAY_PORT}) sees ${spec.nodes.length}/${spec.nodes.length} agents; ` +
        `forwarded to 127.0.0.1:${RELAY_FORWARD_PORT}`,
    );
    // Like the kubelet for the relay's Deployment: restarts the relay or its forward when one dies.
    daemons.push(startDaemon(SUPERVISOR_DAEMON, '', [process.execPath, SUPERVISOR_MAIN]));
    save(0);
    step(`supervisor restarts ${SUPERVISED.join(' and ')} if they die ('lab stop NAME' keeps one down)`);
    const beforeWorkloads = daemons.length;

    const zone: Record<string, string> = {};
    for (const pod of spec.pods) zone[`${pod.name}.${pod.namespace}`] = pod.ip;
    writeFileSync(DNS_ZONE_FILE, JSON.stringify(zone, null, 2));
    const dnsServer = spec.pods.find((p) => p.workload.kind === 'dns-server');
    for (const pod of spec.pods) {
      if (pod.workload.kind === 'none') continue;
      const { kind, ...settings } = pod.workload;
      daemons.push(
        startDaemon(
          `pod-${pod.namespace}-${pod.name}`,
          podNamespace(pod),
          [process.execPath, join(WORKLOADS, `${kind}.mjs`)],
          {
            WSL_POD: `${pod.namespace}/${pod.name}`,
            WSL_WORKLOAD: JSON.stringify(settings),
            WSL_DNS_ZONE: DNS_ZONE_FILE,
            ...(dnsServer ? { WSL_DNS_SERVER: dnsServer.ip } : {}),
          },
        ),
      );
    }
    step(`started ${daemons.length - beforeWorkloads} workloads`);
    const readyAfterMs = Date.now() - started;
    save(readyAfterMs);
    step(`lab ready in ${(readyAfterMs / 1000).toFixed(1)}s`);
    return { status: 'started', state: readState() as LabState };
  } catch (err) {
    save(0);
    throw err;
  }
}

function etcdHealthy(): Promise<true | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath: etcdForwardSocket, path: '/health', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(/"health":\s*"true"/.test(body) ? true : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export function startAgent(node: LabSpec['nodes'][number]): Daemon {
  const pki = labPkiPaths({ nodes: [node] });
  const serverPair = pki.agents[node.name];
  return startDaemon(agentDaemon(node.name), nodeNamespace(node.name), [
    process.execPath,
    AGENT_MAIN,
    '--node-name',
    node.name,
    '--underlay-ip',
    node.address,
    '--pod-cidr',
    node.podCIDR,
    '--etcd-endpoints',
    `http://${CONTROL_PLANE_ADDRESS}:${ETCD_PORT}`,
    '--state-dir',
    agentDir(node.name),
    '--api-socket',
    agentSocket(node.name),
    '--wg-interface',
    wireguardInterface(node.name),
    '--wg-port',
    String(WIREGUARD_PORT),
    '--wg-mtu',
    '1420',
    '--resync-interval',
    '2',
    '--datapath',
    'bpf',
    '--hubble-listen',
    `${node.address}:${HUBBLE_PORT},unix://${hubbleSocket(node.name)}`,
    '--hubble-tls-cert',
    serverPair?.cert ?? '',
    '--hubble-tls-key',
    serverPair?.key ?? '',
    '--hubble-tls-client-ca',
    pki.ca,
  ]);
}

/**
 * The relay in the control-plane namespace: it learns the agents from one agent's Peer.Notify (fed
 * from the cluster store), dials each with mutual TLS, and serves mTLS on 4245 plus a plain unix
 * socket that the root namespace's loopback forward pipes into.
 */
function startRelay(spec: LabSpec): Daemon {
  const pki = labPkiPaths(spec);
  // Every agent serves the whole peer list: the relay follows one and moves on if it fails.
  const discovery = spec.nodes.map((n) => `${n.address}:${HUBBLE_PORT}`);
  if (discovery.length === 0) throw new LabError('the lab spec has no nodes');
  return startDaemon('relay', CONTROL_PLANE_NS, [
    process.execPath,
    RELAY_MAIN,
    '--listen-address',
    `${CONTROL_PLANE_ADDRESS}:${RELAY_PORT}`,
    '--unix-socket',
    RELAY_SOCKET,
    '--peer-service',
    discovery.join(','),
    '--tls-cert',
    pki.relayServer.cert,
    '--tls-key',
    pki.relayServer.key,
    '--tls-client-ca',
    pki.ca,
    '--peer-tls-ca',
    pki.ca,
    '--peer-tls-cert',
    pki.relayClient.cert,
    '--peer-tls-key',
    pki.relayClient.key,
  ]);
}

/** The relay's ServerStatus over a plain address (its unix socket, or the loopback forward). */
export async function relayStatus(address: string, timeoutMs = 2000): Promise<ServerStatusResponse> {
  const client = makeClient(address, grpc.credentials.createInsecure());
  try {
    return await unary(client, methods.observer.serverStatus, create(ServerStatusRequestSchema), {
      deadlineMs: timeoutMs,
    });
  } finally {
    client.close();
  }
}

/** Until the relay, asked through the root namespace's forward, has every agent connected. */
/** Throws a LabError naming the first of `daemons` that has exited, with the end of its log. */
function requireAlive(daemons: Daemon[]): void {
  for (const d of daemons) {
    if (isAlive(d.pid)) continue;
    let tail = '';
    try {
      tail = readFileSync(d.log, 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      tail = '(no log)';
    }
    throw new LabError(`${d.name} exited: ${tail} (log ${d.log})`);
  }
}

async function waitForRelay(spec: LabSpec, daemons: Daemon[], timeoutMs: number): Promise<void> {
  await waitFor(`the relay to connect to all ${spec.nodes.length} agents`, timeoutMs, async () => {
    requireAlive(daemons.filter((d) => d.name === 'relay' || d.name === 'relay-forward'));
    const status = await relayStatus(`127.0.0.1:${RELAY_FORWARD_PORT}`, 1000);
    if (status.numConnectedNodes !== spec.nodes.length)
      throw new Error(`${status.numConnectedNodes ?? 0} connected`);
    return true;
  });
}

export async function encryptStatusOf(node: string): Promise<EncryptStatusResponse> {
  return agentRequest(agentSocket(node), 'GET', '/v1/encrypt');
}

/** Resolves once every agent has a peer for every other node and each peer has handshaken. */
export async function waitForMesh(
  spec: LabSpec,
  timeoutMs: number,
  since = 0,
  agents: Daemon[] = [],
): Promise<void> {
  await waitFor('every node pair to complete a WireGuard handshake', timeoutMs, async () => {
    // an agent that died will not come: say why at once instead of timing out
    requireAlive(agents);
    for (const node of spec.nodes) {
      const status = await encryptStatusOf(node.name);
      if (status.peers.length !== spec.nodes.length - 1) return undefined;
      for (const peer of status.peers) {
        if (!peer.latestHandshake || Date.parse(peer.latestHandshake) < since) return undefined;
      }
    }
    return true;
  });
}

/**
 * Stops one lab process by name (etcd, agent-node1, relay, pod-shop-api, …) and waits for it to
 * exit. It is marked stopped on purpose first, so the supervisor leaves it down until `lab start`;
 * a process that had already died (the relay between a crash and its restart) is just marked.
 */
export function stopComponent(name: string): Promise<{ daemon: Daemon; wasRunning: boolean }> {
  return withLabLock(() => stopComponentLocked(name));
}

async function stopComponentLocked(name: string): Promise<{ daemon: Daemon; wasRunning: boolean }> {
  const state = requireState();
  const daemon = findDaemon(state, name);
  const wasRunning = isAlive(daemon.pid);
  if (!wasRunning && daemon.stoppedAt)
    throw new Error(`${name} is not running (stopped at ${daemon.stoppedAt})`);
  writeState({
    ...state,
    daemons: state.daemons.map((d) => (d.name === name ? { ...d, stoppedAt: new Date().toISOString() } : d)),
  });
  if (!wasRunning) return { daemon, wasRunning };
  signal(daemon.pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (isAlive(daemon.pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(daemon.pid)) signal(daemon.pid, 'SIGKILL');
  while (isAlive(daemon.pid)) await sleep(20);
  return { daemon, wasRunning };
}

/** Starts a stopped lab process again with its original command line; records the new pid. */
export function startComponent(name: string): Promise<Daemon> {
  return withLabLock(() => startComponentLocked(name));
}

async function startComponentLocked(name: string): Promise<Daemon> {
  const state = requireState();
  const daemon = findDaemon(state, name);
  if (isAlive(daemon.pid)) throw new Error(`${name} is already running (pid ${daemon.pid})`);
  // A new record: no stoppedAt (the supervisor watches it again); its restart history stays.
  const next: DaemonRecord = {
    ...startDaemon(daemon.name, daemon.namespace, daemon.argv, daemon.env),
    ...(daemon.restarts ? { restarts: daemon.restarts } : {}),
    ...(daemon.lastRestart ? { lastRestart: daemon.lastRestart } : {}),
  };
  writeState({ ...state, daemons: state.daemons.map((d) => (d.name === name ? next : d)) });
  return next;
}

function requireState(): LabState {
  const state = readState();
  if (!state) throw new LabError("no lab is running; start one with 'wirescope lab up'");
  return state;
}

function findDaemon(state: LabState, name: string): DaemonRecord {
  const daemon = state.daemons.find((d) => d.name === name);
  if (!daemon)
    throw new LabError(`no lab process "${name}"; accepted: ${state.daemons.map((d) => d.name).join(', ')}`);
  return daemon;
}

export interface DownResult {
  namespaces: string[];
  processes: number;
}

function processesIn(namespace: string): Promise<number[]> {
  return run('ip', ['netns', 'pids', namespace]).then(
    (out) => out.split('\n').filter(Boolean).map(Number),
    () => [],
  );
}

/**
 * Removes everything the lab made, whether or not a state file survived: every process inside a
 * lab namespace, recorded daemons, the namespaces (and with them every link), wireguard-go
 * sockets, and /run/wirescope-lab.
 */
export function labDown(progress?: Progress): Promise<DownResult> {
  return withLabLock(() => labDownLocked(), progress);
}

async function labDownLocked(): Promise<DownResult> {
  const namespaces = await labNamespaces();
  const pids = new Set<number>();
  for (const ns of namespaces) for (const pid of await processesIn(ns)) pids.add(pid);
  const state = readState();
  for (const daemon of state?.daemons ?? []) {
    // Pid reuse guard: only a process that still runs one of our programs.
    const command = commandOf(daemon.pid);
    if (isAlive(daemon.pid) && (command.includes(REPO_ROOT) || command.includes('etcd')))
      pids.add(daemon.pid);
  }
  // The root-namespace forward and the supervisor are in no lab namespace: found by their exact
  // command lines even when the state file is gone (a crashed run), or the forward would keep
  // 127.0.0.1:4245 from the next lab and the supervisor would outlive the lab.
  for (const pid of rootNamespacePids()) pids.add(pid);
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while ([...pids].some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) if (isAlive(pid)) signal(pid, 'SIGKILL');
  while ([...pids].some(isAlive) && Date.now() < deadline + 2000) await sleep(50);
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns]).catch(() => {});
  if (existsSync(WIREGUARD_SOCKET_DIR)) {
    for (const name of readdirSync(WIREGUARD_SOCKET_DIR)) {
      if (name.startsWith(`${PREFIX}-`)) rmSync(join(WIREGUARD_SOCKET_DIR, name), { force: true });
    }
  }
  rmSync(LAB_DIR, { recursive: true, force: true });
  return { namespaces, processes: pids.size };
}

function rootNamespacePids(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = commandOf(Number(entry)).split('\0');
    if ((argv[1] === LOOPBACK_MAIN && argv[3] === RELAY_SOCKET) || argv[1] === SUPERVISOR_MAIN)
      found.push(Number(entry));
  }
  return found;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
