// One real lab (default spec) shared by the checks of issue 3 item 5, in order; torn down at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  agentHealth,
  captureFabric,
  cli,
  cliAsync,
  deleteNodeRecord,
  encryptStatus,
  eventually,
  inNs,
  labUp,
  podGet,
  processRuns,
  ROOT,
  type Frame,
  type NodeEncrypt,
} from './lab-helpers.js';
import { agentRequest } from '@wirescope/agent';

const NODES = ['node1', 'node2', 'node3'];
const NODE_IPS = new Map([
  ['node1', '10.77.0.11'],
  ['node2', '10.77.0.12'],
  ['node3', '10.77.0.13'],
]);
const CP_IP = '10.77.0.254';
const LOADGEN = 'wsl-node1-shop-loadgen'; // node1
const FRONTEND_IP = '10.244.1.11'; // node1
const API_IP = '10.244.2.10'; // node2
const DB_IP = '10.244.3.10'; // node3
const POD_IPS = [
  FRONTEND_IP,
  '10.244.1.10',
  '10.244.1.12',
  API_IP,
  '10.244.2.11',
  '10.244.2.12',
  DB_IP,
  '10.244.3.11',
  '10.244.3.12',
  '10.244.3.53',
];

const RESOLVE_API = `const { Resolver } = require('node:dns/promises');
const r = new Resolver(); r.setServers(['10.244.3.53']);
r.resolve4('api.shop').then((a) => console.log(a[0]), (e) => { console.error(e.message); process.exit(1); });`;

interface LabDaemon {
  name: string;
  pid: number;
}
const state = (): { daemons: LabDaemon[] } =>
  JSON.parse(readFileSync('/run/wirescope-lab/state.json', 'utf8'));
const pidOf = (name: string): number => state().daemons.find((d) => d.name === name)?.pid ?? -1;
const alive = processRuns;

/** Every frame on the fabric must be WireGuard between nodes, etcd to the control plane, or ARP. */
const CP_TO_NODE_PORTS = [4244, 9965];

function unexpectedFrames(frames: Frame[]): string[] {
  const nodeIPs = new Set(NODE_IPS.values());
  const bad: string[] = [];
  for (const f of frames) {
    if (f.arp) {
      if (![f.arp.sender, f.arp.target].every((a) => nodeIPs.has(a) || a === CP_IP))
        bad.push(`ARP ${f.arp.sender} -> ${f.arp.target}`);
      continue;
    }
    const describe = `ethertype 0x${f.etherType.toString(16)} proto ${f.protocol} ${f.src}:${f.srcPort} -> ${f.dst}:${f.dstPort}`;
    if (f.etherType !== 0x0800 || !f.src || !f.dst) {
      bad.push(describe);
      continue;
    }
    const wireguard =
      f.protocol === 17 &&
      nodeIPs.has(f.src) &&
      nodeIPs.has(f.dst) &&
      f.srcPort === 51871 &&
      f.dstPort === 51871;
    const etcd =
      f.protocol === 6 &&
      ((nodeIPs.has(f.src) && f.dst === CP_IP && f.dstPort === 2379) ||
        (f.src === CP_IP && f.srcPort === 2379 && nodeIPs.has(f.dst)));
    // The control plane's own connections to each node: the relay's mTLS Hubble stream (4244) and
    // Prometheus scraping the agent's /metrics (9965); neither carries pod packets.
    const controlPlane =
      f.protocol === 6 &&
      ((f.src === CP_IP && nodeIPs.has(f.dst) && CP_TO_NODE_PORTS.includes(f.dstPort ?? 0)) ||
        (nodeIPs.has(f.src) && f.dst === CP_IP && CP_TO_NODE_PORTS.includes(f.srcPort ?? 0)));
    if (!wireguard && !etcd && !controlPlane) bad.push(describe);
  }
  return bad;
}

function containsClear(frames: Frame[], needle: Buffer): number {
  return frames.filter((f) => f.bytes.includes(needle)).length;
}

const ipBytes = (ip: string): Buffer => Buffer.from(ip.split('.').map(Number));

function peerOf(status: NodeEncrypt, node: string) {
  return status.peers.find((p) => p.node === node);
}

let upOutput = '';

let racingUpOutput = '';

before(async () => {
  cli('lab', 'down');
  // Two `lab up`s at once: one builds the lab, the other waits for it and then changes nothing.
  const ups = await Promise.all([cliAsync('lab', 'up'), cliAsync('lab', 'up')]);
  for (const up of ups) assert.equal(up.code, 0, up.stdout + up.stderr);
  const builder = ups.find((up) => /lab ready in/.test(up.stdout));
  const waiter = ups.find((up) => up !== builder);
  upOutput = `${builder?.stdout}${builder?.stderr}`;
  racingUpOutput = `${waiter?.stdout}${waiter?.stderr}`;
});

after(() => {
  cli('lab', 'down');
});

test('lab up shows progress, reports readiness, and a second lab up changes nothing', () => {
  assert.match(racingUpOutput, /waiting: another lab operation \(pid \d+\) is in progress/);
  assert.match(racingUpOutput, /already running .*nothing changed/);
  assert.match(upOutput, /network namespaces/);
  assert.match(upOutput, /etcd up in wsl-cp/);
  assert.match(upOutput, /registered 10 endpoints/);
  const ready = /lab ready in ([\d.]+)s/.exec(upOutput);
  assert.ok(ready, upOutput);
  console.log(`# lab ready in ${ready[1]}s`);
  const before = readFileSync('/run/wirescope-lab/state.json', 'utf8');
  const again = cli('lab', 'up');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already running .*nothing changed/);
  assert.equal(readFileSync('/run/wirescope-lab/state.json', 'utf8'), before);
  const status = cli('lab', 'status', '-o', 'json');
  assert.equal(status.code, 0, status.stdout + status.stderr);
  const parsed = JSON.parse(status.stdout) as {
    healthy: boolean;
    pods: { running: boolean }[];
    etcd: { nodes: string[] };
  };
  assert.equal(parsed.healthy, true);
  assert.equal(parsed.pods.length, 10);
  assert.ok(parsed.pods.every((p) => p.running));
  assert.deepEqual(parsed.etcd.nodes, NODES);
});

test('lab up after a crash (state lost, a process killed) removes the leftovers and comes up clean', () => {
  const oldAgent = pidOf('agent-node1');
  process.kill(oldAgent, 'SIGKILL');
  rmSync('/run/wirescope-lab/state.json');
  const up = labUp();
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /removed leftovers of a previous run \(15 namespaces, \d+ processes\)/);
  assert.match(up.stdout, /lab ready in/);
  assert.notEqual(pidOf('agent-node1'), oldAgent);
  const status = JSON.parse(cli('lab', 'status', '-o', 'json').stdout) as { healthy: boolean };
  assert.equal(status.healthy, true);
});

test('every node pair completes a WireGuard handshake; encrypt status shows the full mesh', async () => {
  for (const node of NODES) {
    const status = await encryptStatus(node);
    assert.equal(status.mechanism, 'wireguard-go');
    assert.equal(status.interface, `wsl-wg-${node}`);
    assert.equal(status.listenPort, 51871);
    assert.equal(status.mtu, 1420);
    const others = NODES.filter((n) => n !== node);
    assert.deepEqual(status.peers.map((p) => p.node).sort(), others);
    for (const other of others) {
      const peer = peerOf(status, other);
      assert.equal(peer?.endpoint, `${NODE_IPS.get(other)}:51871`);
      assert.deepEqual(peer?.allowedIPs, [`10.244.${other.slice(-1)}.0/24`]);
      assert.ok(peer?.latestHandshake, `${node} -> ${other} handshake`);
      assert.equal(peer?.publicKey, (await encryptStatus(other)).publicKey);
    }
  }
  const text = cli('encrypt', 'status');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /node1: wireguard-go interface wsl-wg-node1 port 51871/);
  assert.equal((text.stdout.match(/handshake \d+s ago/g) ?? []).length, 6);
});

test('cross-node HTTP works and the fabric carries only WireGuard (UDP 51871) between node addresses', async () => {
  const marker = `wsl-marker-${randomBytes(6).toString('hex')}`;
  const { frames, result } = await captureFabric('cross', () => {
    const responses = [];
    // Real DNS over UDP 53 to the DNS pod on node3, through the tunnel like everything else.
    const dns = inNs(LOADGEN, process.execPath, '-e', RESOLVE_API);
    responses.push({
      status: dns.stdout.trim() === API_IP ? 200 : 0,
      body: `dns: ${dns.stdout}${dns.stderr}`,
    });
    for (let i = 0; i < 3; i++) {
      responses.push(podGet(LOADGEN, `http://${API_IP}:8080/${marker}`)); // node1 -> node2 (api -> db on node3)
      responses.push(podGet(LOADGEN, `http://${DB_IP}:8080/${marker}`)); // node1 -> node3
    }
    return responses;
  });
  for (const r of result) assert.equal(r.status, 200, r.body);
  const api = JSON.parse(result[1]?.body ?? '{}') as { pod: string; upstreams: { status: number }[] };
  assert.equal(api.pod, 'shop/api');
  assert.equal(api.upstreams[0]?.status, 200, 'api reached db on the third node');

  assert.ok(frames.length > 0, 'captured traffic');
  assert.deepEqual(unexpectedFrames(frames), []);
  const wg = (a: string, b: string) =>
    frames.filter((f) => f.protocol === 17 && ((f.src === a && f.dst === b) || (f.src === b && f.dst === a)))
      .length;
  assert.ok(wg('10.77.0.11', '10.77.0.12') > 0, 'node1<->node2 WireGuard packets seen');
  assert.ok(wg('10.77.0.11', '10.77.0.13') > 0, 'node1<->node3 WireGuard packets seen');
  assert.equal(containsClear(frames, Buffer.from(marker)), 0, 'request path never in clear');
  // etcd's control-plane traffic legitimately names endpoints (keys like /wirescope/endpoints/shop/api).
  const dataFrames = frames.filter((f) => f.srcPort !== 2379 && f.dstPort !== 2379);
  assert.equal(containsClear(dataFrames, Buffer.from('"pod":"shop/api"')), 0, 'response body never in clear');
  for (const ip of POD_IPS) {
    assert.ok(
      !frames.some((f) => f.src === ip || f.dst === ip),
      `pod address ${ip} never in an outer header`,
    );
  }
  // Pod addresses inside the inner (encrypted) headers would show as these 8 bytes (src+dst) in clear.
  assert.equal(containsClear(frames, Buffer.concat([ipBytes('10.244.1.10'), ipBytes(API_IP)])), 0);
});

test('same-node pod traffic never touches the fabric', async () => {
  const route = inNs(
    'wsl-node1',
    'ip',
    'route',
    'get',
    FRONTEND_IP,
    'from',
    '10.244.1.10',
    'iif',
    readLxc('shop', 'loadgen'),
  );
  assert.match(route.stdout, /dev lxc[0-9a-f]{8}/, route.stdout + route.stderr);
  assert.doesNotMatch(route.stdout, /wsl-wg/);
  const size = 4_000_000;
  const txBefore = sumTx(await encryptStatus('node1'));
  const { frames, result } = await captureFabric('same', () =>
    inNs(
      LOADGEN,
      'curl',
      '-s',
      '-m',
      '20',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{size_download}',
      `http://${FRONTEND_IP}:8080/bytes?n=${size}`,
    ),
  );
  assert.equal(result.stdout, `200 ${size}`);
  const txAfter = sumTx(await encryptStatus('node1'));
  const fabricBytes = frames.reduce((n, f) => n + f.bytes.length, 0);
  // Background traffic is a few KB/s; a 4 MB transfer through the fabric or the tunnel would dwarf it.
  assert.ok(
    fabricBytes < size / 10,
    `fabric carried ${fabricBytes} bytes during a ${size}-byte same-node transfer`,
  );
  assert.ok(txAfter - txBefore < size / 10, `node1's tunnel sent ${txAfter - txBefore} bytes during it`);
  assert.ok(!frames.some((f) => f.src === FRONTEND_IP || f.dst === FRONTEND_IP));
});

function readLxc(namespace: string, pod: string): string {
  const link = inNs('wsl-node1', 'ip', '-j', 'route', 'show', `10.244.1.10/32`);
  const dev = (JSON.parse(link.stdout) as { dev: string }[])[0]?.dev;
  assert.ok(dev, `lxc interface of ${namespace}/${pod}`);
  return dev;
}

function sumTx(status: NodeEncrypt): number {
  return status.peers.reduce((n, p) => n + p.txBytes, 0);
}

test('security identities: the same labels get the same identity on every node', async () => {
  type Endpoints = { endpoints: { namespace: string; pod: string; identity?: number }[] };
  const identities = await eventually('every local endpoint to have an identity', 10_000, async () => {
    const found = new Map<string, number>();
    for (const node of NODES) {
      const { endpoints } = await agentRequest<Endpoints>(
        `/run/wirescope-lab/${node}/agent.sock`,
        'GET',
        '/v1/endpoints',
      );
      for (const e of endpoints)
        if (e.identity !== undefined) found.set(`${e.namespace}/${e.pod}`, e.identity);
    }
    return found.size === POD_IPS.length ? found : undefined;
  });
  const api = identities.get('shop/api'); // node2
  assert.ok(api !== undefined && api >= 256, `allocated identities start at 256, got ${api}`);
  assert.equal(identities.get('shop/api-2'), api, 'replica on node3 (same labels) shares the identity');
  const distinct = new Set([...identities].filter(([pod]) => pod !== 'shop/api-2').map(([, id]) => id));
  assert.equal(distinct.size, POD_IPS.length - 1, 'different label sets get different identities');
  const stored = inNs(
    'wsl-cp',
    'etcdctl',
    '--endpoints',
    'http://127.0.0.1:2379',
    'get',
    '--print-value-only',
    `/wirescope/identities/by-id/${api}`,
  );
  assert.equal(stored.stdout.trim(), 'app=api;io.kubernetes.pod.namespace=shop;tier=backend');
});

test('an agent restart keeps its public key and peers, without duplicates, and traffic keeps flowing', async () => {
  const before = await encryptStatus('node3');
  const wgPid = Number(readFileSync('/run/wirescope-lab/node3/wireguard-go.pid', 'utf8'));
  const oldAgent = pidOf('agent-node3');
  assert.equal(cli('lab', 'stop', 'agent-node3').code, 0);
  assert.ok(!alive(oldAgent));
  // Datapath survives the control plane: node2 -> node3 (api -> db) still works with the agent down.
  assert.equal(podGet('wsl-node2-shop-worker', `http://${DB_IP}:8080/agent-down`).status, 200);
  const start = cli('lab', 'start', 'agent-node3');
  assert.equal(start.code, 0, start.stderr);
  await eventually('restarted agent-node3 to answer and resync', 15_000, async () =>
    (await agentHealth('node3')).store.connected ? true : undefined,
  );
  const afterStatus = await encryptStatus('node3');
  assert.equal(afterStatus.publicKey, before.publicKey);
  assert.deepEqual(
    afterStatus.peers.map((p) => p.publicKey).sort(),
    before.peers.map((p) => p.publicKey).sort(),
  );
  assert.equal(
    Number(readFileSync('/run/wirescope-lab/node3/wireguard-go.pid', 'utf8')),
    wgPid,
    'device adopted, not recreated',
  );
  const routes = inNs('wsl-node3', 'ip', '-j', 'route', 'show', 'dev', 'wsl-wg-node3');
  assert.deepEqual((JSON.parse(routes.stdout) as { dst: string }[]).map((r) => r.dst).sort(), [
    '10.244.1.0/24',
    '10.244.2.0/24',
  ]);
  for (const node of ['node1', 'node2']) {
    const peers = (await encryptStatus(node)).peers.filter((p) => p.node === 'node3');
    assert.equal(peers.length, 1, `${node} has exactly one peer for node3`);
    assert.equal(peers[0]?.publicKey, before.publicKey);
  }
  assert.equal(podGet(LOADGEN, `http://${DB_IP}:8080/after-restart`).status, 200);
});

test('etcd stopped and restarted mid-test loses no connectivity; agents resync', async () => {
  assert.equal(cli('lab', 'stop', 'etcd').code, 0);
  await eventually('agents to notice the store is gone', 15_000, async () =>
    (await agentHealth('node1')).store.connected ? undefined : true,
  );
  let failures = 0;
  for (let i = 0; i < 10; i++) {
    if (podGet(LOADGEN, `http://${API_IP}:8080/etcd-down-${i}`).status !== 200) failures++; // node1 -> node2 -> node3
    await sleep(200);
  }
  assert.equal(failures, 0, 'cross-node requests failed while etcd was down');
  for (const node of NODES)
    assert.equal((await encryptStatus(node)).peers.length, 2, `${node} kept its peers`);
  // An agent (re)started while the store is down comes up from its cached view, touching nothing.
  const peersBefore = (await encryptStatus('node1')).peers.map((p) => `${p.node} ${p.publicKey}`).sort();
  assert.equal(cli('lab', 'stop', 'agent-node1').code, 0);
  assert.equal(cli('lab', 'start', 'agent-node1').code, 0);
  const health = await eventually('agent-node1 to answer with the store down', 15_000, () =>
    agentHealth('node1'),
  );
  assert.equal(health.store.connected, false);
  assert.equal(health.status, 'degraded');
  assert.deepEqual(
    (await encryptStatus('node1')).peers.map((p) => `${p.node} ${p.publicKey}`).sort(),
    peersBefore,
  );
  assert.equal(podGet(LOADGEN, `http://${DB_IP}:8080/agent-restarted-etcd-down`).status, 200);
  assert.equal(cli('lab', 'start', 'etcd').code, 0);
  await eventually('all agents to reconnect to etcd', 30_000, async () => {
    for (const node of NODES) if (!(await agentHealth(node)).store.connected) return undefined;
    return true;
  });
  const status = JSON.parse(cli('lab', 'status', '-o', 'json').stdout) as { etcd: { nodes: string[] } };
  assert.deepEqual(status.etcd.nodes, NODES);
  assert.equal(podGet(LOADGEN, `http://${API_IP}:8080/etcd-back`).status, 200);
});

test('a node removed from the store loses its peer everywhere within 5 s', async () => {
  assert.equal(cli('lab', 'stop', 'agent-node3').code, 0); // otherwise it re-registers itself at once
  deleteNodeRecord('node3');
  await eventually('node3 peer and route gone from node1 and node2', 5_000, async () => {
    for (const node of ['node1', 'node2']) {
      if ((await encryptStatus(node)).peers.some((p) => p.allowedIPs.includes('10.244.3.0/24')))
        return undefined;
      if (inNs(`wsl-${node}`, 'ip', 'route', 'show', '10.244.3.0/24').stdout.trim() !== '') return undefined;
    }
    return true;
  });
  assert.notEqual(
    podGet(LOADGEN, `http://${DB_IP}:8080/node-gone`, 2).status,
    200,
    'no path to a removed node',
  );
  assert.equal(cli('lab', 'start', 'agent-node3').code, 0);
  await eventually('node3 back in the mesh', 20_000, async () => {
    for (const node of ['node1', 'node2']) {
      const peer = peerOf(await encryptStatus(node), 'node3');
      if (!peer?.latestHandshake) return undefined;
    }
    return podGet(LOADGEN, `http://${DB_IP}:8080/node-back`, 2).status === 200 ? true : undefined;
  });
});

test('lab forward: 127.0.0.1 in the root namespace reaches a pod through a unix socket', async () => {
  const forward = spawn(
    process.execPath,
    [
      `${ROOT}apps/cli/dist/bin.js`,
      'lab',
      'forward',
      'wsl-node3-data-db',
      '127.0.0.1:8080',
      '--local-port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  forward.stdout.on('data', (d: Buffer) => (output += d.toString()));
  forward.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => forward.once('exit', resolve));
  try {
    const port = await eventually(
      'the forward to listen',
      15_000,
      () => /forwarding 127\.0\.0\.1:(\d+)/.exec(output)?.[1],
    );
    const body = await new Promise<string>((resolve, reject) => {
      get({ host: '127.0.0.1', port: Number(port), path: '/through-forward', timeout: 5000 }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.deepEqual(JSON.parse(body), { pod: 'data/db', path: '/through-forward', upstreams: [] });
  } finally {
    forward.kill('SIGINT');
  }
  assert.equal(await exited, 0, output);
  const leftovers = readdirSync('/run/wirescope-lab/sockets').filter((n) =>
    n.startsWith('forward-wsl-node3'),
  );
  assert.deepEqual(leftovers, []);
});

test('lab down leaves no namespace, link, process, socket or file behind', () => {
  const pids = state().daemons.map((d) => d.pid);
  const wgPids = NODES.map((n) => Number(readFileSync(`/run/wirescope-lab/${n}/wireguard-go.pid`, 'utf8')));
  const down = cli('lab', 'down');
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /lab removed: 15 namespaces/);
  const namespaces = cli('lab', 'status', '-o', 'json');
  assert.deepEqual(JSON.parse(namespaces.stdout), { running: false, leftoverNamespaces: [] });
  for (const pid of [...pids, ...wgPids]) assert.ok(!alive(pid), `process ${pid} is gone`);
  assert.ok(!existsSync('/run/wirescope-lab'));
  assert.ok(!existsSync('/run/wirescope-lab.lock'), 'lab lock released');
  const sockets = existsSync('/run/wireguard')
    ? readdirSync('/run/wireguard').filter((n) => n.startsWith('wsl-'))
    : [];
  assert.deepEqual(sockets, []);
  assert.deepEqual(
    rootLinkNames().filter((n) => /^(lxc|wsl-|fab-)/.test(n)),
    [],
    'no lab link in the root namespace',
  );
});

/** The root namespace's interfaces (the test process runs there). */
function rootLinkNames(): string[] {
  return readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter(Boolean);
}
