// Issue 4 item 5 on one real lab with the eBPF datapath: observation points and identities on
// both sides of the tunnel, no leaks (fabric capture as ground truth), same-node traffic,
// handshakes, strict mode, kernel drops, in-kernel aggregation, agent restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentRequest } from '@wirescope/agent';
import {
  captureFabric,
  cli,
  deleteNodeRecord,
  eventually,
  hookPrograms,
  inNs,
  labUp,
  podGet,
  type Frame,
} from './lab-helpers.js';

const NODES = ['node1', 'node2', 'node3'];
const LOADGEN = 'wsl-node1-shop-loadgen';
const LOADGEN_IP = '10.244.1.10';
const FRONTEND_IP = '10.244.1.11';
const API_NS = 'wsl-node2-shop-api';
const API_IP = '10.244.2.10';
const DB_IP = '10.244.3.10';
const DB = 'wsl-node3-data-db';
const POD_PREFIX = '10.244.';

interface JsonFlow {
  verdict?: string;
  trace_observation_point?: string;
  drop_reason_desc?: string;
  is_reply?: boolean;
  Summary?: string;
  IP?: { source: string; destination: string; encrypted?: boolean };
  l4?: {
    TCP?: { source_port: number; destination_port: number; flags?: Record<string, boolean> };
    UDP?: { source_port: number; destination_port: number };
    ICMPv4?: { type?: number; code?: number };
  };
  source?: { identity?: number; namespace?: string; pod_name?: string; labels?: string[] };
  destination?: { identity?: number; namespace?: string; pod_name?: string; labels?: string[] };
  node_name?: string;
  event_type?: { type?: number; sub_type?: number };
  traffic_direction?: string;
  interface?: { index?: number; name?: string };
  extensions?: { mechanism?: string; peer_node?: string; receiver_index?: number; leak?: boolean };
  time?: string;
}

interface JsonHandshake {
  time: string;
  node_name: string;
  peer_node?: string;
  message_type: string;
  round_trip_ns?: string;
  initiated_locally?: boolean;
}

const socketOf = (node: string) => `/run/wirescope-lab/${node}/agent.sock`;

async function flows(node: string, last = 60000): Promise<JsonFlow[]> {
  const res = await agentRequest<{ flows: { flow: JsonFlow }[] }>(
    socketOf(node),
    'GET',
    `/v1/flows?last=${last}`,
  );
  return res.flows.map((f) => f.flow);
}

async function handshakes(node: string): Promise<JsonHandshake[]> {
  const res = await agentRequest<{ handshakes: { handshake: JsonHandshake }[] }>(
    socketOf(node),
    'GET',
    '/v1/handshakes?last=4000',
  );
  return res.handshakes.map((h) => h.handshake);
}

interface DatapathStatus {
  loaded: boolean;
  strict: boolean;
  attachments: {
    interface: string;
    program: string;
    attached: boolean;
    kind?: 'tcx' | 'filter';
    linkId?: number;
    repairs?: number;
    lastRepair?: string;
  }[];
  stats: { leakPackets: number; strictDrops: number; redirects: number };
  observer: { flowsSeen: number; lost: number };
}

const datapath = (node: string) => agentRequest<DatapathStatus>(socketOf(node), 'GET', '/v1/datapath');

function post(node: string, path: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socketOf(node), method: 'POST', path, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        (res.statusCode ?? 500) < 400 ? resolve(JSON.parse(text)) : reject(new Error(text)),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const tcpOf = (f: JsonFlow) => f.l4?.TCP;
const isTuple = (f: JsonFlow, src: string, sport: number, dst: string, dport: number) =>
  f.IP?.source === src &&
  f.IP?.destination === dst &&
  tcpOf(f)?.source_port === sport &&
  tcpOf(f)?.destination_port === dport;
const point = (f: JsonFlow) => f.trace_observation_point;

/**
 * curl from a pod from a source port of a fresh range (earlier runs leave TIME_WAIT behind), so
 * that the test can find exactly its flow; returns the port curl used.
 */
function curlFrom(podNs: string, url: string, exactPort?: number): { status: number; port: number } {
  const base = 30000 + Math.floor(Math.random() * 300) * 100;
  const ports = exactPort === undefined ? `${base}-${base + 99}` : String(exactPort);
  const res = inNs(
    podNs,
    'curl',
    '-s',
    '-m',
    '3',
    '--local-port',
    ports,
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %{local_port}',
    url,
  );
  const [status, port] = res.stdout.trim().split(' ').map(Number);
  // a connection that never opened reports local port 0: the caller's exact port is the truth
  return { status: status ?? 0, port: exactPort ?? port ?? 0 };
}

/** A source port for a connection that is expected to fail (curl cannot report it then). */
const freshPort = (): number => 20000 + Math.floor(Math.random() * 10000);

function podAddressesInClear(frames: Frame[]): string[] {
  return frames
    .filter((f) => f.src?.startsWith(POD_PREFIX) || f.dst?.startsWith(POD_PREFIX))
    .map((f) => `${f.src} -> ${f.dst}`);
}

async function identitiesByPod(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const node of NODES) {
    const { endpoints } = await agentRequest<{
      endpoints: { namespace: string; pod: string; identity?: number }[];
    }>(socketOf(node), 'GET', '/v1/endpoints');
    for (const e of endpoints) if (e.identity !== undefined) out.set(`${e.namespace}/${e.pod}`, e.identity);
  }
  return out;
}

// WIRESCOPE_E2E_REUSE_LAB=1 runs against an already running lab and leaves it up (development).
const reuseLab = process.env.WIRESCOPE_E2E_REUSE_LAB === '1';

before(async () => {
  if (!reuseLab) {
    cli('lab', 'down');
    const up = labUp();
    assert.equal(up.code, 0, up.stdout + up.stderr);
  }
  await eventually('every agent to load the datapath and attach to its pods', 20_000, async () => {
    for (const node of NODES) {
      const s = await datapath(node);
      if (!s.loaded || s.attachments.filter((a) => a.program === 'from_endpoint' && a.attached).length < 2)
        return undefined;
    }
    return true;
  });
});

after(() => {
  if (!reuseLab) cli('lab', 'down');
});

test('(a)(b) cross-node TCP: from-endpoint + to-crypto on the source, from-crypto + to-endpoint on the destination, identities both sides, replies marked; nothing in clear on the fabric', async () => {
  for (const node of NODES) {
    const s = await datapath(node);
    assert.ok(
      s.attachments.every((a) => a.attached),
      `${node}: ${JSON.stringify(s.attachments.filter((a) => !a.attached))}`,
    );
  }
  const { frames, result } = await captureFabric('dp-cross', () =>
    curlFrom(LOADGEN, `http://${API_IP}:8080/dp-a`),
  );
  assert.equal(result.status, 200);
  const port = result.port;
  const ids = await identitiesByPod();
  const loadgenId = ids.get('shop/loadgen');
  const apiId = ids.get('shop/api');
  assert.ok(loadgenId && apiId && loadgenId !== apiId);

  const src = await eventually('node1 to show from-endpoint, to-crypto and the reply', 5000, async () => {
    const all = await flows('node1');
    const fwd = all.filter((f) => isTuple(f, LOADGEN_IP, port, API_IP, 8080));
    const rev = all.filter((f) => isTuple(f, API_IP, 8080, LOADGEN_IP, port));
    const points = new Set(fwd.map(point));
    return points.has('FROM_ENDPOINT') &&
      points.has('TO_CRYPTO') &&
      rev.some((f) => point(f) === 'TO_ENDPOINT')
      ? { fwd, rev }
      : undefined;
  });
  for (const f of src.fwd) {
    assert.equal(f.verdict, 'FORWARDED');
    assert.equal(f.node_name, 'node1');
    assert.equal(f.IP?.encrypted, true, `${point(f)} encrypted`);
    assert.equal(f.extensions?.mechanism, 'MECHANISM_WIREGUARD');
    assert.equal(f.extensions?.peer_node, 'node2');
    assert.equal(f.source?.pod_name, 'loadgen');
    assert.equal(f.source?.namespace, 'shop');
    assert.equal(f.source?.identity, loadgenId);
    assert.equal(f.destination?.pod_name, 'api');
    assert.equal(f.destination?.identity, apiId);
    assert.ok(f.source?.labels?.includes('k8s:app=loadgen'));
    assert.notEqual(f.is_reply, true);
    assert.equal(f.traffic_direction, 'EGRESS');
  }
  const syn = src.fwd.find((f) => point(f) === 'TO_CRYPTO' && tcpOf(f)?.flags?.SYN);
  assert.ok(syn, 'the SYN was traced at to-crypto');
  assert.deepEqual(syn.event_type, { type: 4, sub_type: 13 });
  assert.match(syn.interface?.name ?? '', /^wsl-wg-node1$/);
  for (const f of src.rev) assert.equal(f.is_reply, true, `reply at ${point(f)} marked is_reply`);
  assert.ok(src.rev.some((f) => point(f) === 'FROM_CRYPTO' && f.IP?.encrypted === true));

  const dst = await eventually('node2 to show from-crypto and to-endpoint', 5000, async () => {
    const all = await flows('node2');
    const fwd = all.filter((f) => isTuple(f, LOADGEN_IP, port, API_IP, 8080));
    const rev = all.filter((f) => isTuple(f, API_IP, 8080, LOADGEN_IP, port));
    const points = new Set(fwd.map(point));
    return points.has('FROM_CRYPTO') &&
      points.has('TO_ENDPOINT') &&
      rev.some((f) => point(f) === 'FROM_ENDPOINT')
      ? { fwd, rev }
      : undefined;
  });
  for (const f of dst.fwd) {
    assert.equal(f.source?.identity, loadgenId, `node2 sees the same source identity at ${point(f)}`);
    assert.equal(f.destination?.identity, apiId);
    assert.equal(f.source?.pod_name, 'loadgen');
    assert.notEqual(f.is_reply, true);
  }
  const fromCrypto = dst.fwd.find((f) => point(f) === 'FROM_CRYPTO');
  assert.equal(fromCrypto?.IP?.encrypted, true);
  assert.equal(fromCrypto?.extensions?.peer_node, 'node1');
  assert.ok(dst.rev.every((f) => f.is_reply === true));
  assert.ok(
    dst.rev.some((f) => point(f) === 'TO_CRYPTO'),
    'the reply goes back through to-crypto on node2',
  );

  // (b) ground truth: the fabric never carried a pod address in an outer header; agents agree.
  assert.ok(frames.length > 0);
  assert.deepEqual(podAddressesInClear(frames), []);
  for (const node of NODES)
    assert.equal((await datapath(node)).stats.leakPackets, 0, `${node} reports no leak`);
  assert.ok((await datapath('node1')).stats.redirects > 0, 'node1 redirected into WireGuard by eBPF');
});

test('(c) same-node traffic is forwarded unencrypted and never seen at to-crypto', async () => {
  const { frames, result } = await captureFabric('dp-same', () =>
    curlFrom(LOADGEN, `http://${FRONTEND_IP}:8080/dp-c`),
  );
  assert.equal(result.status, 200);
  const port = result.port;
  const mine = await eventually('node1 to show the same-node flow at both ends', 5000, async () => {
    const all = (await flows('node1')).filter((f) => isTuple(f, LOADGEN_IP, port, FRONTEND_IP, 8080));
    const points = new Set(all.map(point));
    return points.has('FROM_ENDPOINT') && points.has('TO_ENDPOINT') ? all : undefined;
  });
  for (const f of mine) {
    assert.equal(f.verdict, 'FORWARDED');
    assert.notEqual(f.IP?.encrypted, true);
    assert.equal(f.extensions?.mechanism, 'MECHANISM_NONE');
    assert.equal(f.destination?.pod_name, 'frontend');
  }
  assert.ok(!mine.some((f) => point(f) === 'TO_CRYPTO' || point(f) === 'FROM_CRYPTO'));
  assert.ok(!frames.some((f) => f.src === FRONTEND_IP || f.dst === FRONTEND_IP));
});

function pairsWithRoundTrip(records: JsonHandshake[], since: number): Set<string> {
  const pairs = new Set<string>();
  for (const h of records) {
    if (Date.parse(h.time) < since - 1000 || !h.peer_node) continue;
    const rtt = Number(h.round_trip_ns ?? 0);
    if (h.message_type === 'HANDSHAKE_RESPONSE' && rtt > 0 && rtt < 2e9)
      pairs.add([h.node_name, h.peer_node].sort().join('-'));
  }
  return pairs;
}

test('(d) handshake records for every peer pair after start and after a key rotation, with a plausible round trip', async () => {
  const all = async () => (await Promise.all(NODES.map(handshakes))).flat();
  const start = await all();
  for (const node of NODES) {
    for (const other of NODES.filter((n) => n !== node)) {
      assert.ok(
        start.some(
          (h) => h.node_name === node && h.peer_node === other && h.message_type === 'HANDSHAKE_INITIATION',
        ),
        `${node} saw an initiation with ${other}`,
      );
    }
  }
  assert.deepEqual([...pairsWithRoundTrip(start, 0)].sort(), ['node1-node2', 'node1-node3', 'node2-node3']);

  const rotatedAt = Date.now();
  assert.equal(cli('encrypt', 'rotate-key', '--node', 'node2').code, 0);
  const after = await eventually('handshakes of node2 with both peers after rotation', 30_000, async () => {
    const pairs = pairsWithRoundTrip(await all(), rotatedAt);
    return pairs.has('node1-node2') && pairs.has('node2-node3') ? pairs : undefined;
  });
  assert.ok(after.size >= 2);
  assert.equal(podGet(LOADGEN, `http://${API_IP}:8080/after-rotation`).status, 200);
});

test('a new connection on the 5-tuple of a closed connection (a reused source port) is a new flow: both SYNs are reported', async () => {
  // two connections from one fixed source port, each closed with a RST (no TIME_WAIT to wait out)
  const port = 40000 + Math.floor(Math.random() * 2000);
  const script =
    `const net = require('node:net');` +
    `const once = () => new Promise((ok, fail) => { const s = net.connect({ host: '${API_IP}', port: 8080, localPort: ${port} });` +
    ` s.on('connect', () => { s.resetAndDestroy(); setTimeout(ok, 300); }); s.on('error', fail); });` +
    `once().then(once).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`;
  const run = inNs(LOADGEN, process.execPath, '-e', script);
  assert.equal(run.code, 0, run.stderr);
  const isSyn = (f: JsonFlow) =>
    f.trace_observation_point === 'FROM_ENDPOINT' &&
    f.l4?.TCP?.source_port === port &&
    f.l4.TCP.destination_port === 8080 &&
    f.l4.TCP.flags?.SYN === true &&
    f.l4.TCP.flags.ACK !== true;
  const syns = await eventually('both SYNs from the reused port on node1', 10_000, async () => {
    const found = (await flows('node1')).filter(isSyn);
    return found.length >= 2 ? found : undefined;
  });
  assert.equal(syns.length, 2);
});

test('(f) UDP to a closed port is a kernel drop (NO_SOCKET) attributed to the receiving pod', async () => {
  const isProbeDrop = (f: JsonFlow) => f.verdict === 'DROPPED' && f.l4?.UDP?.destination_port === 9999;
  const drop = await eventually('node3 to report the udp-probe drop', 10_000, async () =>
    (await flows('node3')).find(isProbeDrop),
  );
  assert.match(drop.Summary ?? '', /NO_SOCKET/);
  assert.equal(drop.destination?.pod_name, 'db');
  assert.equal(drop.destination?.namespace, 'data');
  assert.equal(drop.source?.pod_name, 'udp-probe');
  assert.ok((drop.destination?.identity ?? 0) >= 256);
  // dropped inside db's namespace, a namespace of node3: node3's drop and no one else's
  assert.equal(drop.node_name, 'node3');
  assert.equal(drop.traffic_direction, 'INGRESS');
  for (const node of ['node1', 'node2'])
    assert.deepEqual((await flows(node)).filter(isProbeDrop), [], `${node} does not report db's drop`);
});

/** Kernel drops of one packet (by addresses and a predicate) as each node reports them. */
async function kernelDropsByNode(
  nodes: string[],
  match: (f: JsonFlow) => boolean,
): Promise<Map<string, JsonFlow[]>> {
  const out = new Map<string, JsonFlow[]>();
  for (const node of nodes)
    out.set(
      node,
      (await flows(node)).filter(
        (f) => f.verdict === 'DROPPED' && /kernel drop/.test(f.Summary ?? '') && match(f),
      ),
    );
  return out;
}

/**
 * One ICMP echo of 1478 bytes with DF: above the WireGuard MTU (1420), so from_endpoint hands it to
 * the node's stack, whose forwarding path answers "fragmentation needed" and frees it with
 * SKB_DROP_REASON_PKT_TOO_BIG — in the source node's namespace. The pod's learned path MTU is
 * flushed first (ping -M do would refuse to send, and this ping has no -M probe).
 */
function pingTooBig(podNs: string, dst: string): void {
  inNs(podNs, 'ip', 'route', 'flush', 'cache');
  inNs(podNs, 'ping', '-n', '-c', '1', '-W', '1', '-M', 'do', '-s', '1450', dst);
}

test('(f2) a SYN to an address of node3’s pod CIDR that no pod holds is dropped inside node3’s namespace (IP_INNOROUTES): node3 reports it, no one else', async () => {
  const ghost = '10.244.3.99';
  const port = freshPort();
  const res = curlFrom(LOADGEN, `http://${ghost}:8080/dp-f2`, port);
  assert.notEqual(res.status, 200);
  const isSyn = (f: JsonFlow) => isTuple(f, LOADGEN_IP, port, ghost, 8080) && tcpOf(f)?.flags?.SYN === true;
  const drop = await eventually(
    'node3 to report the SYN it had no route for',
    10_000,
    async () => (await kernelDropsByNode(['node3'], isSyn)).get('node3')?.[0],
  );
  assert.match(drop.Summary ?? '', /IP_INNOROUTES/);
  assert.equal(drop.node_name, 'node3');
  assert.equal(drop.traffic_direction, 'INGRESS');
  assert.equal(drop.source?.pod_name, 'loadgen');
  for (const [node, found] of await kernelDropsByNode(['node1', 'node2'], isSyn))
    assert.deepEqual(found, [], `${node} does not report node3's drop`);
});

test('(f3) a packet from a node3 pod to a node1 pod dropped inside node3’s namespace (PKT_TOO_BIG) is node3’s drop, not node1’s (whose pod it was addressed to)', async () => {
  const isPing = (f: JsonFlow) =>
    f.IP?.source === DB_IP && f.IP?.destination === LOADGEN_IP && f.l4?.ICMPv4?.type === 8;
  const since = Date.now() - 1000;
  const recent = (f: JsonFlow) => isPing(f) && Date.parse(f.time ?? '') >= since;
  pingTooBig(DB, LOADGEN_IP);
  const drop = await eventually(
    'node3 to report the too-big echo request',
    10_000,
    async () => (await kernelDropsByNode(['node3'], recent)).get('node3')?.[0],
  );
  assert.match(drop.Summary ?? '', /PKT_TOO_BIG/);
  assert.equal(drop.node_name, 'node3');
  assert.equal(drop.traffic_direction, 'EGRESS');
  assert.equal(drop.source?.pod_name, 'db');
  assert.equal(drop.destination?.pod_name, 'loadgen');
  await sleep(500);
  for (const [node, found] of await kernelDropsByNode(['node1', 'node2'], recent))
    assert.deepEqual(found, [], `${node} does not report node3's drop`);
});

test('(f4) with the destination node’s agent down, a packet to its pod dropped at the source node (PKT_TOO_BIG) is reported by the source node', async () => {
  assert.equal(cli('lab', 'stop', 'agent-node3').code, 0);
  try {
    const isPing = (f: JsonFlow) =>
      f.IP?.source === LOADGEN_IP && f.IP?.destination === DB_IP && f.l4?.ICMPv4?.type === 8;
    const since = Date.now() - 1000;
    const recent = (f: JsonFlow) => isPing(f) && Date.parse(f.time ?? '') >= since;
    pingTooBig(LOADGEN, DB_IP);
    const drop = await eventually(
      'node1 to report the too-big echo request',
      10_000,
      async () => (await kernelDropsByNode(['node1'], recent)).get('node1')?.[0],
    );
    assert.match(drop.Summary ?? '', /PKT_TOO_BIG/);
    assert.equal(drop.node_name, 'node1');
    assert.equal(drop.traffic_direction, 'EGRESS');
    assert.equal(drop.source?.pod_name, 'loadgen');
    assert.equal(drop.destination?.pod_name, 'db');
    await sleep(500);
    assert.deepEqual((await kernelDropsByNode(['node2'], recent)).get('node2'), []);
  } finally {
    cli('lab', 'start', 'agent-node3');
    await eventually('node3 datapath back and in the mesh', 30_000, async () =>
      (await datapath('node3').catch(() => undefined))?.loaded &&
      podGet(LOADGEN, `http://${DB_IP}:8080/back-f4`, 2).status === 200
        ? true
        : undefined,
    );
  }
});

/** IP fragments the node made (sending) and reassembled (receiving) so far, in a node's namespace. */
function fragments(nodeNs: string): number {
  const out = inNs(nodeNs, 'nstat', '-az', '--json', 'IpFragCreates', 'IpReasmReqds');
  const parsed = JSON.parse(out.stdout) as { kernel?: { IpFragCreates?: number; IpReasmReqds?: number } };
  return (parsed.kernel?.IpFragCreates ?? 0) + (parsed.kernel?.IpReasmReqds ?? 0);
}

test('(f5) a bulk transfer from a pod that has not learnt the path MTU: its GSO packets above the tunnel MTU are refused (fragmentation needed), so nothing is fragmented on the underlay, the pod learns 1420, and the data arrives', async () => {
  const server = spawn('ip', ['netns', 'exec', API_NS, 'iperf3', '-s', '-1', '-p', '5302'], {
    stdio: 'ignore',
  });
  try {
    await sleep(500);
    // the pod's interface MTU is 1500: its first flight is GSO packets of 1500-byte segments
    inNs(LOADGEN, 'ip', 'route', 'flush', 'cache');
    assert.doesNotMatch(inNs(LOADGEN, 'ip', 'route', 'get', API_IP).stdout, /mtu 1420/);
    const before = fragments('wsl-node1') + fragments('wsl-node2');
    const client = inNs(LOADGEN, 'iperf3', '-c', API_IP, '-p', '5302', '-n', '4M', '-J');
    assert.equal(client.code, 0, client.stderr);
    // iperf3's receiver figure of a -n transfer can be cut short; the sender's is every byte, acked
    const sent = (JSON.parse(client.stdout) as { end: { sum_sent: { bytes: number } } }).end.sum_sent.bytes;
    assert.ok(sent >= 4 << 20, `${sent} bytes sent`);
    const made = fragments('wsl-node1') + fragments('wsl-node2') - before;
    assert.equal(made, 0, `${made} IP fragments made or reassembled on the underlay`);
    assert.match(inNs(LOADGEN, 'ip', 'route', 'get', API_IP).stdout, /mtu 1420/);
  } finally {
    server.kill();
  }
});

test('(g) a long-lived TCP connection: a handful of trace records, in-kernel counters within 1% of the segments sent (new + retransmitted)', async () => {
  const server = spawn('ip', ['netns', 'exec', API_NS, 'iperf3', '-s', '-1', '-p', '5301'], {
    stdio: 'ignore',
  });
  try {
    await sleep(500);
    const port = 30000 + Math.floor(Math.random() * 30000);
    const before = nstat(LOADGEN);
    const client = inNs(
      LOADGEN,
      'iperf3',
      '-c',
      API_IP,
      '-p',
      '5301',
      '-t',
      '8',
      '--cport',
      String(port),
      '-J',
    );
    assert.equal(client.code, 0, client.stderr);
    const sentSegments = nstat(LOADGEN) - before;
    await sleep(500);
    const { flows: counters } = await agentRequest<{
      flows: { saddr: string; daddr: string; sport: number; dport: number; point: number; packets: number }[];
    }>(socketOf('node1'), 'GET', '/v1/datapath/flow-counters');
    const counter = counters.find(
      (c) =>
        c.saddr === LOADGEN_IP && c.sport === port && c.daddr === API_IP && c.dport === 5301 && c.point === 5,
    );
    assert.ok(counter, 'from-endpoint counter for the iperf3 data connection');
    // the pod's own other traffic (loadgen's 1/s HTTP) is in the TcpOutSegs delta too: tiny next to iperf3
    assert.ok(sentSegments > 1000, `iperf3 sent ${sentSegments} segments`);
    const ratio = counter.packets / sentSegments;
    console.log(
      `# iperf3 segments ${sentSegments}, from-endpoint counter ${counter.packets} (ratio ${ratio.toFixed(4)})`,
    );
    assert.ok(Math.abs(1 - ratio) <= 0.01, `counter ${counter.packets} vs ${sentSegments} segments sent`);
    const traces = (await flows('node1')).filter(
      (f) => isTuple(f, LOADGEN_IP, port, API_IP, 5301) && point(f) === 'FROM_ENDPOINT',
    );
    console.log(`# trace records for that flow at from-endpoint: ${traces.length}`);
    assert.ok(
      traces.length >= 2 && traces.length <= 12,
      `${traces.length} trace records for ${counter.packets} packets`,
    );
  } finally {
    server.kill();
  }
});

/** TCP segments the pod's stack put on the wire so far: new ones plus retransmissions. */
function nstat(podNs: string): number {
  const out = inNs(podNs, 'nstat', '-az', '--json', 'TcpOutSegs', 'TcpRetransSegs');
  const parsed = JSON.parse(out.stdout) as { kernel?: { TcpOutSegs?: number; TcpRetransSegs?: number } };
  return (parsed.kernel?.TcpOutSegs ?? 0) + (parsed.kernel?.TcpRetransSegs ?? 0);
}

test('(e) strict mode: a node without a peer gets DROPPED 195 on the source and nothing in clear; without strict mode it is a leak', async () => {
  await post('node1', '/v1/datapath/strict', { enabled: true });
  assert.equal((await datapath('node1')).strict, true);
  assert.equal(cli('lab', 'stop', 'agent-node3').code, 0);
  deleteNodeRecord('node3');
  try {
    await eventually('node1 to remove its node3 peer', 10_000, async () => {
      const status = await agentRequest<{ peers: { node?: string }[] }>(
        socketOf('node1'),
        'GET',
        '/v1/encrypt',
      );
      return status.peers.some((p) => p.node === 'node3') ? undefined : true;
    });
    const { frames, result } = await captureFabric('dp-strict', () =>
      curlFrom(LOADGEN, `http://${DB_IP}:8080/dp-e`, freshPort()),
    );
    assert.notEqual(result.status, 200);
    const port = result.port;
    const drop = await eventually('node1 to report DROPPED 195', 5000, async () =>
      (await flows('node1')).find(
        (f) => f.verdict === 'DROPPED' && isTuple(f, LOADGEN_IP, port, DB_IP, 8080),
      ),
    );
    assert.equal(drop.drop_reason_desc, 'UNENCRYPTED_TRAFFIC');
    assert.equal(drop.destination?.pod_name, 'db');
    assert.equal(drop.trace_observation_point, 'FROM_ENDPOINT');
    assert.deepEqual(podAddressesInClear(frames), []);

    // Strict off and a route that sends pod traffic over the underlay: the leak is caught.
    await post('node1', '/v1/datapath/strict', { enabled: false });
    assert.equal(
      inNs('wsl-node1', 'ip', 'route', 'replace', '10.244.3.0/24', 'via', '10.77.0.13', 'dev', 'eth0').code,
      0,
    );
    try {
      const { frames: leaked, result: leakTry } = await captureFabric('dp-leak', () =>
        curlFrom(LOADGEN, `http://${DB_IP}:8080/dp-leak`, freshPort()),
      );
      const leakPort = leakTry.port;
      assert.ok(
        podAddressesInClear(leaked).length > 0,
        'the fabric saw the pod address in clear (ground truth)',
      );
      const leak = await eventually('node1 to flag the leak', 5000, async () =>
        (await flows('node1')).find(
          (f) =>
            f.trace_observation_point === 'TO_NETWORK' &&
            f.extensions?.leak === true &&
            isTuple(f, LOADGEN_IP, leakPort, DB_IP, 8080),
        ),
      );
      assert.equal(leak.IP?.encrypted ?? false, false);
      assert.ok((await datapath('node1')).stats.leakPackets > 0);
    } finally {
      inNs('wsl-node1', 'ip', 'route', 'del', '10.244.3.0/24', 'via', '10.77.0.13', 'dev', 'eth0');
    }
  } finally {
    await post('node1', '/v1/datapath/strict', { enabled: false }).catch(() => undefined);
    cli('lab', 'start', 'agent-node3');
    await eventually('node3 back in the mesh', 30_000, async () =>
      podGet(LOADGEN, `http://${DB_IP}:8080/back`, 2).status === 200 ? true : undefined,
    );
  }
});

test('(h) agent restart: one program per tc hook (TCX links on this kernel), and flows continue', async () => {
  for (let i = 0; i < 2; i++) {
    assert.equal(cli('lab', 'stop', 'agent-node1').code, 0);
    assert.equal(cli('lab', 'start', 'agent-node1').code, 0);
  }
  await eventually('node1 datapath back', 20_000, async () =>
    (await datapath('node1').catch(() => undefined))?.loaded ? true : undefined,
  );
  await eventually('node1 to reattach its pods', 10_000, async () =>
    (await datapath('node1')).attachments.filter((a) => a.program === 'from_endpoint' && a.attached).length >=
    3
      ? true
      : undefined,
  );
  const links = JSON.parse(inNs('wsl-node1', 'ip', '-j', 'link', 'show').stdout) as { ifname: string }[];
  for (const ifname of links
    .map((l) => l.ifname)
    .filter((n) => n.startsWith('lxc') || n.startsWith('wsl-wg') || n === 'eth0')) {
    for (const dir of ['ingress', 'egress'] as const) {
      const { filters, tcx } = hookPrograms('wsl-node1', ifname, dir);
      assert.ok(
        filters.length + tcx.length <= 1,
        `${ifname} ${dir}: ${filters.length} filters and ${tcx.length} TCX programs after two restarts\n${filters.join('\n')}`,
      );
      if (ifname.startsWith('lxc') || ifname.startsWith('wsl-wg'))
        assert.deepEqual([filters.length, tcx.length], [0, 1], `${ifname} ${dir}: one TCX link, no filter`);
    }
  }
  const again = curlFrom(LOADGEN, `http://${API_IP}:8080/dp-h`);
  assert.equal(again.status, 200);
  const port = again.port;
  await eventually('new flows after the restart', 5000, async () => {
    const all = await flows('node1');
    return all.some((f) => isTuple(f, LOADGEN_IP, port, API_IP, 8080) && point(f) === 'TO_CRYPTO')
      ? true
      : undefined;
  });
});

test("(h2) TCX links detached behind the agent's back (a pod veth's from_endpoint, the WireGuard device's to_crypto) are put back within seconds, counted, and flows continue", async () => {
  const links = JSON.parse(inNs(LOADGEN, 'ip', '-j', 'link', 'show', 'eth0').stdout) as {
    link_index?: number;
  }[];
  const hostSide = (
    JSON.parse(inNs('wsl-node1', 'ip', '-j', 'link', 'show').stdout) as { ifindex: number; ifname: string }[]
  ).find((l) => l.ifindex === links[0]?.link_index)?.ifname;
  assert.ok(hostSide?.startsWith('lxc'), `the loadgen pod's host-side veth: ${hostSide}`);
  const before = await datapath('node1');
  const entryOf = (s: DatapathStatus, ifname: string, program: string) =>
    s.attachments.find((a) => a.interface === ifname && a.program === program);
  const repairsOf = (s: DatapathStatus, ifname: string, program: string) =>
    entryOf(s, ifname, program)?.repairs ?? 0;
  const taken: [string, 'ingress' | 'egress', string][] = [
    [hostSide, 'ingress', 'from_endpoint'],
    ['wsl-wg-node1', 'egress', 'to_crypto'],
  ];
  for (const [dev, dir, program] of taken) {
    const entry = entryOf(before, dev, program);
    assert.ok(entry?.kind === 'tcx' && entry.linkId, JSON.stringify(entry));
    assert.equal(inNs('wsl-node1', 'bpftool', 'link', 'detach', 'id', String(entry.linkId)).code, 0);
    assert.deepEqual(hookPrograms('wsl-node1', dev, dir).tcx, [], `${dev} ${dir} detached`);
  }
  const started = Date.now();
  await eventually('both links back', 5000, async () =>
    taken.every(([dev, dir]) => hookPrograms('wsl-node1', dev, dir).tcx.length === 1) ? true : undefined,
  );
  const putBackMs = Date.now() - started;
  const after = await datapath('node1');
  for (const [dev, , program] of taken) {
    assert.equal(
      repairsOf(after, dev, program),
      repairsOf(before, dev, program) + 1,
      `${program} on ${dev} counted once`,
    );
    const entry = entryOf(after, dev, program);
    assert.ok(entry?.attached && entry.lastRepair, JSON.stringify(entry));
    assert.notEqual(entry.linkId, entryOf(before, dev, program)?.linkId, 'a new link');
  }
  const metrics = inNs('wsl-node1', 'curl', '-s', 'http://127.0.0.1:9965/metrics').stdout;
  assert.match(
    metrics,
    new RegExp(
      `wirescope_datapath_program_repairs_total\\{program="from_endpoint",interface="${hostSide}",direction="ingress"\\} [1-9]`,
    ),
  );
  const again = curlFrom(LOADGEN, `http://${API_IP}:8080/dp-h2`);
  assert.equal(again.status, 200);
  await eventually('from-endpoint and to-crypto flows after the repair', 5000, async () => {
    const all = (await flows('node1', 2000)).filter((f) => isTuple(f, LOADGEN_IP, again.port, API_IP, 8080));
    return all.some((f) => point(f) === 'FROM_ENDPOINT') && all.some((f) => point(f) === 'TO_CRYPTO')
      ? true
      : undefined;
  });
  console.log(`# links put back ${putBackMs} ms after their detach`);
});

test('(i) steering is the eBPF mark, not the main table: without node1 main route to node2 pods the traffic still goes through WireGuard; a removed rule is put back and counted', async () => {
  const encrypt = () =>
    agentRequest<{ steering?: { rule: boolean; route: boolean; unreachable: boolean; repairs: number } }>(
      socketOf('node1'),
      'GET',
      '/v1/encrypt',
    );
  const steering = (await encrypt()).steering;
  assert.ok(steering?.rule && steering.route && steering.unreachable, JSON.stringify(steering));
  assert.equal(inNs('wsl-node1', 'ip', 'route', 'del', '10.244.2.0/24').code, 0);
  try {
    const { frames, result } = await captureFabric('dp-mark', () =>
      curlFrom(LOADGEN, `http://${API_IP}:8080/dp-i`, freshPort()),
    );
    assert.equal(result.status, 200);
    assert.ok(frames.length > 0);
    assert.deepEqual(podAddressesInClear(frames), []);
  } finally {
    // the agent's resync puts the route back by itself; this only makes sure
    inNs('wsl-node1', 'ip', 'route', 'replace', '10.244.2.0/24', 'dev', 'wsl-wg-node1', 'proto', 'static');
  }
  const repairsBefore = steering?.repairs ?? 0;
  assert.equal(inNs('wsl-node1', 'ip', 'rule', 'del', 'pref', '1').code, 0);
  await eventually('node1 to put its encrypt-mark rule back', 15_000, async () => {
    const now = (await encrypt()).steering;
    return now &&
      now.repairs > repairsBefore &&
      /lookup 201/.test(inNs('wsl-node1', 'ip', 'rule', 'show', 'pref', '1').stdout)
      ? true
      : undefined;
  });
});
