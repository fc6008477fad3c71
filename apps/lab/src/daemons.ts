// The command lines of the lab's daemons: etcd and the relay in the control-plane namespace, an
// agent in each node namespace, the relay's root-namespace forward and the supervisor.
import { CONTROL_PLANE_ADDRESS, type LabSpec } from './spec.js';
import {
  CONTROL_PLANE_NS,
  ETCD_DATA_DIR,
  ETCD_PORT,
  HUBBLE_PORT,
  LAB_BPFFS,
  PREFIX,
  PROMETHEUS_PORT,
  RELAY_METRICS_PORT,
  RELAY_FORWARD_PORT,
  RELAY_PORT,
  RELAY_SOCKET,
  UI_PORT,
  UI_SOCKET,
  WIREGUARD_PORT,
  agentDaemon,
  agentDir,
  agentSocket,
  hubbleSocket,
  nodeNamespace,
  wireguardInterface,
} from './names.js';
import { AGENT_MAIN, LOOPBACK_MAIN, RELAY_MAIN, SUPERVISOR_MAIN, UI_MAIN } from './programs.js';
import { startDaemon, type Daemon } from './shell.js';
import { SUPERVISOR_DAEMON } from './supervisor.js';
import { RELAY_SERVER_NAME, labPkiPaths } from './tls.js';
import { startNamespaceForward } from './forward.js';
import { LabError } from './errors.js';

/** The lab's etcd: the cluster store, on the control plane's fabric address and its loopback. */
export function startEtcd(): Daemon {
  return startDaemon('etcd', CONTROL_PLANE_NS, [
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
  ]);
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
    '--bpf-root',
    LAB_BPFFS,
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
export function startRelay(spec: LabSpec): Daemon {
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
    '--metrics-listen-address',
    `:${RELAY_METRICS_PORT}`,
  ]);
}

/** 127.0.0.1:4245 in the root namespace -> the relay's plain unix socket. */
export function startRelayForward(): Daemon {
  return startDaemon('relay-forward', '', [
    process.execPath,
    LOOPBACK_MAIN,
    String(RELAY_FORWARD_PORT),
    RELAY_SOCKET,
  ]);
}

/**
 * The web UI where DESIGN.md places it, in the control plane: the relay over mTLS (its own client
 * certificate), Prometheus on the control plane's loopback; served on 127.0.0.1:UI_PORT there and
 * forwarded to the root namespace's loopback like Prometheus.
 */
export function startUi(spec: LabSpec): Daemon[] {
  const pki = labPkiPaths(spec);
  return [
    startDaemon('ui', CONTROL_PLANE_NS, [
      process.execPath,
      UI_MAIN,
      '--listen',
      `127.0.0.1:${UI_PORT}`,
      '--relay',
      `${CONTROL_PLANE_ADDRESS}:${RELAY_PORT}`,
      '--tls-ca-cert-files',
      pki.ca,
      '--tls-client-cert-file',
      pki.ui.cert,
      '--tls-client-key-file',
      pki.ui.key,
      '--tls-server-name',
      RELAY_SERVER_NAME,
      '--prometheus',
      `http://127.0.0.1:${PROMETHEUS_PORT}`,
    ]),
    startNamespaceForward('forward-ui', CONTROL_PLANE_NS, UI_SOCKET, '127.0.0.1', UI_PORT),
    startDaemon('ui-loopback', '', [process.execPath, LOOPBACK_MAIN, String(UI_PORT), UI_SOCKET]),
  ];
}

/** Like the kubelet for the relay's Deployment: restarts the relay or its forward when one dies. */
export function startSupervisor(): Daemon {
  return startDaemon(SUPERVISOR_DAEMON, '', [process.execPath, SUPERVISOR_MAIN]);
}
