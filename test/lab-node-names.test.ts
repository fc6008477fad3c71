// A lab whose nodes carry real Kubernetes node names (issue 9): a dashed name, an EC2 FQDN, and one
// longer than a DNS label, so that every derived name (netns, WireGuard and fabric interfaces,
// /run/wirescope-lab/<node>/ sockets) is exercised in both its kept and its shortened form. Brought
// up through `| head -3` (a closed stdout must not stop the build), torn down at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { agentRequest } from '@wirescope/agent';
import { ROOT, captureFabric, cli, eventually, inNs, podGet, type NodeEncrypt } from './lab-helpers.js';

const DASHED = 'worker-1';
const FQDN = 'ip-10-0-1-12.ec2.internal';
const LONG = 'rack-07-blade-12.k8s-prod.eu-west-1.compute.internal.cluster-a.example';
const NODES = [DASHED, FQDN, LONG];
const POD_IPS = { [DASHED]: '10.244.1.10', [FQDN]: '10.244.2.10', [LONG]: '10.244.3.10' };
const LOCK = '/run/wirescope-lab.lock';

const dir = mkdtempSync('/tmp/wsl-names-');
const specFile = join(dir, 'names.yaml');
writeFileSync(
  specFile,
  [
    'nodes:',
    ...NODES.flatMap((name, i) => [`  - name: ${name}`, `    podCIDR: 10.244.${i + 1}.0/24`]),
    'pods:',
    ...NODES.flatMap((node, i) => [
      `  - name: web-${i + 1}`,
      '    namespace: shop',
      `    node: ${node}`,
      '    workload: { kind: http-server, port: 8080 }',
    ]),
    '',
  ].join('\n'),
);

interface StatusNode {
  name: string;
  address: string;
  namespace: string;
  wireguardInterface: string;
  agentSocket: string;
  agentPid: number;
  agentRunning: boolean;
  inStore: boolean;
  encrypt: NodeEncrypt | { error: string };
}
interface Status {
  healthy: boolean;
  readyAfterMs: number;
  nodes: StatusNode[];
  pods: { name: string; node: string; netns: string; running: boolean }[];
}
const labStatus = (): Status => JSON.parse(cli('lab', 'status', '-o', 'json').stdout) as Status;
const nodeOf = (status: Status, name: string): StatusNode => {
  const node = status.nodes.find((n) => n.name === name);
  assert.ok(node, `node ${name} in lab status`);
  return node;
};
const podNetns = (status: Status, node: string): string =>
  status.pods.find((p) => p.node === node)?.netns ?? assert.fail(`no pod on ${node}`);

let up: { rc: number; stdout: string; stderr: string; ms: number };

before(() => {
  cli('lab', 'down');
  const started = Date.now();
  // `head -3` leaves after three lines; every later progress line meets a closed pipe (EPIPE).
  const res = spawnSync(
    'bash',
    [
      '-c',
      'node "$1" lab up --spec "$2" | head -3; exit "${PIPESTATUS[0]}"',
      'lab-up',
      `${ROOT}apps/cli/dist/bin.js`,
      specFile,
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  up = { rc: res.status ?? -1, stdout: res.stdout, stderr: res.stderr, ms: Date.now() - started };
});

after(() => {
  cli('lab', 'down');
  rmSync(dir, { recursive: true, force: true });
});

test('lab up piped into head -3 builds the whole lab anyway and leaves no lock', () => {
  assert.equal(up.rc, 0, `${up.stdout}\n${up.stderr}`);
  assert.equal(up.stdout.trimEnd().split('\n').length, 3, up.stdout);
  assert.doesNotMatch(up.stderr, /EPIPE|Error/);
  assert.ok(!existsSync(LOCK), 'no stale lab lock');
  const status = labStatus();
  assert.ok(status.readyAfterMs > 0, 'the build finished');
  assert.equal(status.healthy, true, JSON.stringify(status, null, 2));
});

test('nodes with real names are up: namespaces, interfaces and sockets derived within the limits', () => {
  const status = labStatus();
  assert.deepEqual(
    status.nodes.map((n) => n.name),
    NODES,
  );
  // short enough names are kept as written; the long one is shortened with a hash
  assert.equal(nodeOf(status, DASHED).wireguardInterface, 'wsl-wg-worker-1');
  assert.equal(nodeOf(status, FQDN).namespace, `wsl-${FQDN}`);
  assert.match(nodeOf(status, LONG).namespace, /^wsl-rack-07-blade-12\.k8s-prod\.[a-z0-9.-]+-[0-9a-f]{4}$/);
  const interfaces = new Set<string>();
  for (const node of status.nodes) {
    assert.ok(node.agentRunning && node.inStore, `${node.name}: agent running and in the store`);
    assert.ok(Buffer.byteLength(node.wireguardInterface) <= 15, node.wireguardInterface);
    interfaces.add(node.wireguardInterface);
    const link = inNs(node.namespace, 'ip', '-j', 'link', 'show', 'dev', node.wireguardInterface);
    assert.equal(link.code, 0, `${node.name}: ${link.stderr}`);
    assert.ok(existsSync(`/var/run/wireguard/${node.wireguardInterface}.sock`), 'wireguard-go UAPI socket');
  }
  assert.equal(interfaces.size, NODES.length, 'one WireGuard interface name per node');
  for (const pod of status.pods) assert.ok(pod.running, `${pod.name} on ${pod.node}`);
});

test('every node has a WireGuard peer for each other node, handshaken', async () => {
  for (const node of labStatus().nodes) {
    const encrypt = await agentRequest<NodeEncrypt>(node.agentSocket, 'GET', '/v1/encrypt');
    assert.deepEqual(encrypt.peers.map((p) => p.node).sort(), NODES.filter((n) => n !== node.name).sort());
    for (const peer of encrypt.peers) assert.ok(peer.latestHandshake, `${node.name} -> ${peer.node}`);
  }
});

test('cross-node pod traffic flows, and the fabric carries it only inside WireGuard', async () => {
  const status = labStatus();
  const nodeIPs = new Set(status.nodes.map((n) => n.address));
  const marker = `names-${randomBytes(6).toString('hex')}`;
  const pairs: [string, string][] = [
    [DASHED, FQDN],
    [FQDN, LONG],
    [LONG, DASHED],
  ];
  const { frames, result } = await captureFabric('names', () =>
    pairs.map(([from, to]) => podGet(podNetns(status, from), `http://${POD_IPS[to]}:8080/${marker}`)),
  );
  for (const [i, reply] of result.entries()) {
    assert.equal(reply.status, 200, `${pairs[i]?.join(' -> ')}: ${reply.body}`);
    assert.match(reply.body, new RegExp(marker));
  }
  const podIPs = new Set(Object.values(POD_IPS));
  const clear = frames.filter(
    (f) => podIPs.has(f.src ?? '') || podIPs.has(f.dst ?? '') || f.bytes.includes(Buffer.from(marker)),
  );
  assert.deepEqual(clear.length, 0, 'no pod packet in the clear on the fabric');
  const wireguard = frames.filter(
    (f) => f.protocol === 17 && f.dstPort === 51871 && nodeIPs.has(f.src ?? '') && nodeIPs.has(f.dst ?? ''),
  );
  assert.ok(wireguard.length >= pairs.length * 2, `WireGuard frames on the fabric: ${wireguard.length}`);
});

test('lab start right after a SIGKILL starts the agent again (a zombie is not "already running")', async () => {
  const long = nodeOf(labStatus(), LONG);
  const daemon = `agent-${long.namespace.slice('wsl-'.length)}`;
  process.kill(long.agentPid, 'SIGKILL');
  // lab daemons outlive their `lab up`: their parent is PID 1, which here leaves them zombies
  await eventually('the agent to have died', 5000, () =>
    ['Z', 'X', undefined].includes(processState(long.agentPid)) ? true : undefined,
  );
  const start = cli('lab', 'start', daemon);
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, new RegExp(`^${daemon.replaceAll('.', '\\.')}: started, pid \\d+`));
  await eventually('the restarted agent to answer', 20_000, async () => {
    const health = await agentRequest<{ status: string }>(long.agentSocket, 'GET', '/healthz');
    return health.status === 'ok' ? true : undefined;
  });
});

/** The state letter of /proc/<pid>/stat (Z for a zombie); undefined when the process is gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

test('lab down removes the lab with real node names', () => {
  const down = cli('lab', 'down');
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /lab removed: 8 namespaces/);
  assert.ok(!existsSync('/run/wirescope-lab'));
  assert.ok(!existsSync(LOCK));
  console.log(`# lab up through head -3 took ${(up.ms / 1000).toFixed(1)}s`);
});
