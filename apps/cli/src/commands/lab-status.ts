// `wirescope lab status`: the lab's report (@wirescope/lab's labStatus) as text or JSON.
import { labStatus, restartSummary, type DaemonRecord } from '@wirescope/lab';
import { interfaceLine, peerLine } from '../encrypt-format.js';

/** Prints the lab's status; exit code 0 when it runs and is healthy, else 1. */
export async function printLabStatus(output: 'text' | 'json'): Promise<number> {
  const status = await labStatus();
  if (!status.running) {
    const namespaces = status.leftoverNamespaces;
    const leftovers =
      namespaces.length > 0 ? ` (${namespaces.length} leftover namespaces: run 'wirescope lab down')` : '';
    if (output === 'json') console.log(JSON.stringify({ running: false, leftoverNamespaces: namespaces }));
    else console.log(`lab is not running${leftovers}`);
    return 1;
  }
  const { report, details } = status;
  const { relay, forward, supervisor, monitoring, nodes, pods, etcd, healthy } = report;
  const { prometheus, alertmanager, ui } = monitoring;
  if (output === 'json') {
    console.log(JSON.stringify(report, null, 2));
    return healthy ? 0 : 1;
  }
  const storeNodes = etcd.nodes;
  const lines = [
    report.readyAfterMs > 0
      ? `lab ${healthy ? 'running' : 'DEGRADED'} since ${report.startedAt} (ready in ${(report.readyAfterMs / 1000).toFixed(1)}s), spec ${report.spec}`
      : `lab STARTING (or a crashed start) since ${report.startedAt}, spec ${report.spec}`,
    `etcd: pid ${etcd.pid ?? '-'} ${details.etcdRunning ? 'running' : 'NOT RUNNING'}; nodes in store: ${Array.isArray(storeNodes) ? storeNodes.join(', ') : storeNodes}`,
    `relay: pid ${relay.pid ?? '-'} ${relay.running ? 'running' : 'NOT RUNNING'} in ${relay.namespace}, mTLS ${relay.address}, plain ${relay.socket}; ` +
      ('error' in relay
        ? `unreachable: ${relay.error}`
        : `agents connected ${relay.connectedNodes}/${nodes.length}` +
          (relay.unavailableNodes.length > 0 ? ` (unavailable: ${relay.unavailableNodes.join(', ')})` : '')),
    `forward: ${forward.listen} -> ${forward.to}, pid ${forward.pid ?? '-'} ${forward.running ? 'running' : 'NOT RUNNING'} ` +
      `(npx wirescope observe -f; npx wirescope status)`,
    `supervisor: pid ${supervisor.pid ?? '-'} ${supervisor.running ? 'running' : 'NOT RUNNING'}, restarts ${supervisor.watches.join(' and ')} when they die`,
    ...details.supervised.flatMap((d) => supervisionLine(d)),
    `prometheus: ${prometheus.url} ${prometheus.running ? 'running' : 'NOT RUNNING'}; ` +
      ('error' in prometheus.targets
        ? `unreachable: ${prometheus.targets.error}`
        : `targets up ${prometheus.targets.up}/${prometheus.targets.total}` +
          (prometheus.targets.down.length > 0 ? ` (down: ${prometheus.targets.down.join(', ')})` : '')),
    `alertmanager: ${alertmanager.url} ${alertmanager.running ? 'running' : 'NOT RUNNING'}; webhook deliveries in ${alertmanager.webhookLog}`,
    `ui: ${ui.url} ${ui.running ? 'running' : 'NOT RUNNING'} (the web UI: map, flows, encryption, health)`,
    `certificates: ${details.tlsDir} (CA ca.crt; CLI cli-client.crt/.key)`,
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
  if (details.dead.length > 0)
    lines.push('', `not running: ${details.dead.map((d) => `${d.name} (log ${d.log})`).join(', ')}`);
  console.log(lines.join('\n'));
  return healthy ? 0 : 1;
}

function supervisionLine(d: DaemonRecord): string[] {
  const parts = [
    ...(d.restarts ? [restartSummary(d)] : []),
    ...(d.stoppedAt
      ? [`stopped on purpose at ${d.stoppedAt} (not restarted until 'lab start ${d.name}')`]
      : []),
  ];
  return parts.length > 0 ? [`  ${d.name}: ${parts.join('; ')}`] : [];
}
