// `lab up`: the PKI, the network, etcd with every pod's endpoint, the agents until the WireGuard
// mesh is complete, the relay until it sees every agent, the supervisor, then the pods' workloads.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { startAgent, startEtcd, startRelay, startRelayForward, startSupervisor, startUi } from './daemons.js';
import { ALERTMANAGER_URL, PROMETHEUS_URL, monitoringReady, startMonitoring } from './monitoring.js';
import { isMountPoint, labDownLocked, labNamespaces, type Progress } from './down.js';
import { startNamespaceForward } from './forward.js';
import { LabError } from './errors.js';
import { applyHostSettings } from './host-sysctl.js';
import { withLabLock } from './lock.js';
import {
  CONTROL_PLANE_NS,
  DNS_ZONE_FILE,
  ETCD_PORT,
  LAB_BPFFS,
  LAB_DIR,
  LOG_DIR,
  PID_DIR,
  RELAY_FORWARD_PORT,
  RELAY_PORT,
  SOCKET_DIR,
  UI_URL,
  agentDir,
  etcdForwardSocket,
  lxcInterface,
  podNamespace,
} from './names.js';
import { workloadMain } from './programs.js';
import { run, startDaemon, type Daemon } from './shell.js';
import { CONTROL_PLANE_ADDRESS, type LabSpec } from './spec.js';
import { readState, runningDaemons, writeState, type LabState } from './state.js';
import { withLabStore } from './store.js';
import { SUPERVISED } from './supervisor.js';
import { createLabPki } from './tls.js';
import { createTopology } from './topology.js';
import { etcdHealthy, requireAlive, uiAnswers, waitFor, waitForMesh, waitForRelay } from './wait.js';

export type UpResult =
  { status: 'started'; state: LabState } | { status: 'already-running'; state: LabState };

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
  for (const dir of [LAB_DIR, LOG_DIR, PID_DIR, SOCKET_DIR, LAB_BPFFS])
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  const daemons: Daemon[] = [];
  const save = (readyAfterMs: number) =>
    writeState({ startedAt: new Date(started).toISOString(), readyAfterMs, spec, daemons });
  try {
    if (!isMountPoint(LAB_BPFFS)) await run('mount', ['-t', 'bpf', 'bpffs', LAB_BPFFS]);
    step(`bpffs for the agents' pinned links at ${LAB_BPFFS}`);
    await createLabPki(spec);
    step('lab CA and certificates (agents, relay, CLI) created');
    await createTopology(spec, step);
    // before the agents: wireguard-go's socket takes its buffer when it is created
    for (const change of applyHostSettings())
      step(`host setting for the lab (lab down restores it): ${change}`);

    daemons.push(
      startEtcd(),
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
      for (const policy of spec.policies) await store.putPolicy(policy);
      if (spec.policies.length > 0)
        step(
          `applied ${spec.policies.length} network policies (${spec.policies.map((p) => p.name).join(', ')})`,
        );
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

    daemons.push(startRelay(spec), startRelayForward());
    save(0);
    await waitForRelay(spec, daemons, 20_000);
    step(
      `relay in ${CONTROL_PLANE_NS} (mTLS ${CONTROL_PLANE_ADDRESS}:${RELAY_PORT}) sees ${spec.nodes.length}/${spec.nodes.length} agents; ` +
        `forwarded to 127.0.0.1:${RELAY_FORWARD_PORT}`,
    );
    daemons.push(...startMonitoring());
    save(0);
    await waitFor('Prometheus to scrape every agent and the relay', 30_000, () =>
      monitoringReady(spec.nodes.map((n) => n.name)),
    );
    step(
      `Prometheus (${PROMETHEUS_URL}) scrapes ${spec.nodes.length} agents and the relay; Alertmanager at ${ALERTMANAGER_URL}`,
    );
    // A UI left by another run would answer the wait below while ours cannot bind the port.
    if (await uiAnswers()) throw new LabError(`something already serves ${UI_URL}; stop it and retry`);
    const ui = startUi(spec);
    daemons.push(...ui);
    save(0);
    await waitFor(`the web UI to answer on ${UI_URL}`, 20_000, () => {
      requireAlive(ui);
      return uiAnswers();
    });
    step(
      `web UI in ${CONTROL_PLANE_NS} (relay over mTLS ${CONTROL_PLANE_ADDRESS}:${RELAY_PORT}) at ${UI_URL}`,
    );
    daemons.push(startSupervisor());
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
          [process.execPath, workloadMain(kind)],
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
