// The SPA's domain code on synthetic flows shaped as the lab's agents emit them (labelled
// synthetic: the real ones are the browser test's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EncryptionResponse } from '../../server/index.js';
import type { FlowView } from '../../shared/flow-fields.js';
import { buildServiceMap, linkEncryption } from './service-map.js';
import { layoutServiceMap } from './layout.js';
import {
  countPairs,
  coverageMatrix,
  covers,
  driftChecklist,
  handshakeTimeline,
  leakTable,
} from './encryption.js';
import { dropsOverTime, policyVerdicts, topDroppedPairs } from './drops.js';
import { journey } from './journey.js';
import { formatRoute, parseRoute } from './route.js';
import { FlowRing } from '../store/flow-ring.js';
import { PairWindow } from '../store/pair-window.js';

const ext = (e: Record<string, unknown>) => ({
  '@type': 'type.googleapis.com/wirescope.v1.Encryption',
  ...e,
});
const pod = (ns: string, name: string, app: string) => ({
  namespace: ns,
  pod_name: name,
  labels: [`k8s:app=${app}`, `k8s:io.kubernetes.pod.namespace=${ns}`],
});
const frontend = pod('shop', 'frontend', 'frontend');
const api = pod('shop', 'api', 'api');
const api2 = pod('shop', 'api-2', 'api');
const db = pod('data', 'db', 'db');
const loadgen = pod('shop', 'loadgen', 'loadgen');
const now = Date.parse('2026-12-01T12:00:00Z');
const at = (s: number) => new Date(now - s * 1000).toISOString();

function flow(
  src: typeof api,
  dst: typeof api,
  node: string,
  point: string,
  e: {
    encrypted?: boolean;
    peer?: string;
    leak?: boolean;
    verdict?: string;
    drop?: string;
    sport?: number;
    t?: number;
  },
): FlowView {
  return {
    time: at(e.t ?? 1),
    uuid: `${src.pod_name}-${dst.pod_name}-${node}-${point}-${e.sport ?? 40000}`,
    verdict: e.verdict ?? 'FORWARDED',
    drop_reason_desc: e.drop,
    IP: {
      source: `10.0.0.${src.pod_name.length}`,
      destination: `10.0.1.${dst.pod_name.length}`,
      encrypted: e.encrypted,
    },
    l4: { TCP: { source_port: e.sport ?? 40000, destination_port: 8080 } },
    source: src,
    destination: dst,
    node_name: node,
    trace_observation_point: point,
    extensions: ext({
      mechanism: e.encrypted ? 'MECHANISM_WIREGUARD' : 'MECHANISM_NONE',
      peer_node: e.peer ?? '',
      leak: e.leak ?? false,
    }),
  };
}

const labFlows: FlowView[] = [
  flow(loadgen, frontend, 'node1', 'FROM_ENDPOINT', {}),
  flow(loadgen, frontend, 'node1', 'TO_ENDPOINT', {}),
  flow(frontend, api, 'node1', 'FROM_ENDPOINT', { encrypted: true, peer: 'node2' }),
  flow(frontend, api, 'node1', 'TO_CRYPTO', { encrypted: true, peer: 'node2' }),
  flow(frontend, api, 'node2', 'FROM_CRYPTO', { encrypted: true, peer: 'node1' }),
  flow(frontend, api, 'node2', 'TO_ENDPOINT', { peer: 'node1' }),
  flow(api, db, 'node2', 'FROM_ENDPOINT', { encrypted: true, peer: 'node3' }),
  flow(api2, db, 'node3', 'FROM_ENDPOINT', {}),
];

test('service map: a card per app, api and api-2 in one card; edges by encryption state', () => {
  const map = buildServiceMap(labFlows);
  assert.deepEqual([...map.cards.keys()].sort(), ['data/db', 'shop/api', 'shop/frontend', 'shop/loadgen']);
  assert.deepEqual([...map.cards.get('shop/api')!.pods].sort(), ['api', 'api-2']);
  assert.deepEqual([...map.cards.get('data/db')!.ports], ['8080/TCP']);
  const links = [...map.links.values()];
  const state = (from: string, to: string) =>
    linkEncryption(links.find((l) => l.from === from && l.to === to)!);
  assert.equal(state('shop/loadgen', 'shop/frontend'), 'same-node');
  assert.equal(state('shop/frontend', 'shop/api'), 'encrypted');
  assert.equal(state('shop/api', 'data/db'), 'encrypted', 'api-2 -> db is same-node, api -> db encrypted');
  assert.deepEqual([...links.find((l) => l.from === 'shop/api')!.tunnels], ['node2→node3']);
  const mixed = buildServiceMap([
    ...labFlows,
    flow(frontend, api, 'node1', 'FROM_ENDPOINT', { peer: 'node2' }),
  ]);
  assert.equal(linkEncryption([...mixed.links.values()].find((l) => l.to === 'shop/api')!), 'partial');
  assert.equal(buildServiceMap(labFlows, new Set(['data'])).cards.has('shop/loadgen'), false);
});

test('layout: every card placed, inside its namespace box, no two overlapping', () => {
  const map = buildServiceMap(labFlows);
  const layout = layoutServiceMap(map);
  assert.equal(layout.cards.size, map.cards.size);
  for (const [id, box] of layout.cards) {
    const ns = layout.namespaces.get(map.cards.get(id)!.namespace)!;
    assert.ok(box.x >= ns.x && box.y >= ns.y && box.x + box.width <= ns.x + ns.width + 0.5, id);
  }
  const boxes = [...layout.cards.values()];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]!, boxes[j]!];
      const apart =
        a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      assert.ok(apart, `cards ${i} and ${j} overlap`);
    }
});

test('layout of a 3,000-pod replayed cluster (synthetic): 300 workloads in 10 namespaces', () => {
  const flows: FlowView[] = [];
  for (let w = 0; w < 300; w++)
    for (let p = 0; p < 10; p++) {
      const src = pod(`ns${w % 10}`, `w${w}-${p}`, `w${w}`);
      const dst = pod(`ns${(w + 1) % 10}`, `w${(w + 1) % 300}-0`, `w${(w + 1) % 300}`);
      flows.push(flow(src, dst, 'node1', 'FROM_ENDPOINT', { encrypted: true, peer: 'node2', sport: p }));
    }
  const map = buildServiceMap(flows);
  assert.equal(map.cards.size, 300);
  const layout = layoutServiceMap(map);
  assert.equal(layout.cards.size, 300);
  assert.equal(layout.namespaces.size, 10);
});

const status = (overrides: Partial<EncryptionResponse> = {}): EncryptionResponse => {
  const peer = (node: string, cidr: string) => ({
    peerNode: node,
    peerPublicKey: `key-${node}`,
    endpoint: `10.77.0.1${node.slice(-1)}:51871`,
    allowedIps: [cidr],
    latestHandshake: at(20),
    rxBytes: 1000,
    txBytes: 2000,
  });
  const node = (name: string, peers: ReturnType<typeof peer>[]) => ({
    nodeName: name,
    mechanism: 'wireguard',
    implementation: 'wireguard-go',
    interface: `wsl-wg-${name}`,
    publicKey: `key-${name}`,
    listenPort: 51871,
    strictMode: false,
    peers,
    leakedFlows: 0,
    error: '',
  });
  return {
    nodes: [
      node('node1', [peer('node2', '10.244.2.0/24'), peer('node3', '10.244.3.0/24')]),
      node('node2', [peer('node1', '10.244.1.0/24'), peer('node3', '10.244.3.0/24')]),
      node('node3', [peer('node1', '10.244.1.0/24'), peer('node2', '10.244.2.0/24')]),
    ],
    handshakes: [],
    observedAt: at(0),
    ...overrides,
  };
};

test('coverage matrix: Encrypted at 100%, Partial, Plaintext, No traffic, No peer', () => {
  const m = coverageMatrix(status(), countPairs(labFlows), now);
  assert.deepEqual(m.nodes, ['node1', 'node2', 'node3']);
  const cell = (k: string) => m.cells.get(k)!;
  assert.equal(cell('node1→node2').state, 'Encrypted');
  assert.equal(cell('node1→node2').share, 1);
  assert.equal(cell('node1→node2').encrypted, 3, 'from-endpoint, to-crypto on node1, from-crypto on node2');
  assert.equal(cell('node2→node3').state, 'Encrypted');
  assert.equal(cell('node3→node1').state, 'No traffic');
  assert.equal(cell('node1→node2').handshakeAgeMs, 20_000);
  const leaking = [...labFlows, flow(frontend, db, 'node1', 'TO_NETWORK', { leak: true, peer: 'node3' })];
  assert.equal(
    coverageMatrix(status(), countPairs(leaking), now).cells.get('node1→node3')!.state,
    'Plaintext',
  );
  const partial = [...labFlows, flow(frontend, api, 'node1', 'FROM_ENDPOINT', { peer: 'node2' })];
  const p = coverageMatrix(status(), countPairs(partial), now).cells.get('node1→node2')!;
  assert.equal(p.state, 'Partial');
  assert.equal(p.share, 0.75);
  const noPeer = status();
  noPeer.nodes[2]!.peers = noPeer.nodes[2]!.peers.filter((x) => x.peerNode !== 'node1');
  assert.equal(coverageMatrix(noPeer, new Map(), now).cells.get('node3→node1')!.state, 'No peer');
});

test('drift checklist: every check passes for a healthy pair and each failure names its cause', () => {
  const ok = driftChecklist(status(), 'node1', 'node2', status(), now);
  assert.deepEqual(
    ok.map((c) => c.check),
    [
      'peer present',
      'key matches',
      'endpoint',
      'allowed-ips cover the pod CIDR',
      'handshake < 180 s',
      'rx/tx moving',
    ],
  );
  const moved = status();
  moved.nodes[0]!.peers[0]!.rxBytes = 5000;
  moved.nodes[0]!.peers[0]!.txBytes = 6000;
  assert.ok(driftChecklist(moved, 'node1', 'node2', status(), now).every((c) => c.ok));
  const bad = status();
  const p = bad.nodes[0]!.peers[0]!;
  p.peerPublicKey = 'old-key';
  p.allowedIps = ['10.244.9.0/24'];
  p.latestHandshake = at(400);
  const failed = driftChecklist(bad, 'node1', 'node2', undefined, now)
    .filter((c) => !c.ok)
    .map((c) => c.check);
  assert.deepEqual(failed, ['key matches', 'allowed-ips cover the pod CIDR', 'handshake < 180 s']);
  const none = status();
  none.nodes[0]!.peers = [];
  assert.deepEqual(
    driftChecklist(none, 'node1', 'node2').map((c) => [c.check, c.ok]),
    [['peer present', false]],
  );
  assert.equal(covers(['10.244.0.0/16'], '10.244.2.0/24'), true);
  assert.equal(covers(['10.244.2.0/25'], '10.244.2.0/24'), false);
});

test('leak table ranks plaintext cross-node flows; same-node traffic is listed apart', () => {
  const flows = [
    ...labFlows,
    flow(frontend, db, 'node1', 'TO_NETWORK', { leak: true, peer: 'node3' }),
    flow(frontend, db, 'node1', 'TO_NETWORK', { leak: true, peer: 'node3', t: 3 }),
    flow(frontend, api, 'node1', 'FROM_ENDPOINT', { peer: 'node2' }),
  ];
  const { leaks, sameNode } = leakTable(flows);
  assert.deepEqual(
    leaks.map((l) => [l.source, l.destination, l.flows, l.nodes]),
    [
      ['shop/frontend', 'data/db', 2, 'node1 → node3'],
      ['shop/frontend', 'shop/api', 1, 'node1 → node2'],
    ],
  );
  assert.match(leaks[0]!.reason, /underlay/);
  assert.deepEqual(
    sameNode.map((l) => l.source),
    ['shop/loadgen', 'shop/api-2'],
  );
});

test('handshake timeline: a gap over 180 s while the pair carries traffic is flagged, an unanswered initiation counted', () => {
  const hs = (s: number, type: string, node = 'node1', peer = 'node2') => ({
    time: at(s),
    nodeName: node,
    peerNode: peer,
    messageType: type,
    initiatedLocally: node === 'node1',
    senderIndex: 1,
    receiverIndex: 2,
  });
  const lanes = handshakeTimeline(
    [
      hs(400, 'initiation'),
      hs(399.99, 'response', 'node2', 'node1'),
      hs(100, 'initiation'),
      hs(50, 'initiation', 'node1', 'node3'),
    ],
    new Set(['node1→node2']),
  );
  assert.deepEqual(
    lanes.map((l) => [l.pair, l.events.length, l.gaps.length, l.unanswered]),
    [
      ['node1 ↔ node2', 3, 1, 1],
      ['node1 ↔ node3', 1, 0, 1],
    ],
  );
});

test('drops over time, top dropped pairs, policy verdicts only when flows carry them', () => {
  const drops = [
    flow(frontend, db, 'node1', 'FROM_ENDPOINT', { verdict: 'DROPPED', drop: 'UNENCRYPTED_TRAFFIC', t: 5 }),
    flow(frontend, db, 'node1', 'FROM_ENDPOINT', { verdict: 'DROPPED', drop: 'UNENCRYPTED_TRAFFIC', t: 25 }),
    flow(api, db, 'node2', 'FROM_ENDPOINT', { verdict: 'DROPPED', drop: 'POLICY_DENIED', t: 5 }),
  ];
  const series = dropsOverTime([...labFlows, ...drops], 10_000, now, 6);
  // the last bucket is the current one (it holds now)
  assert.deepEqual(series.reasons.get('UNENCRYPTED_TRAFFIC'), [0, 0, 1, 0, 1, 0]);
  assert.deepEqual(topDroppedPairs(drops)[0], {
    pair: 'shop/frontend → data/db',
    reason: 'UNENCRYPTED_TRAFFIC',
    count: 2,
  });
  assert.deepEqual(policyVerdicts(labFlows), [], 'no policy: nothing, not zeros');
  const named = { ...labFlows[0]!, egress_denied_by: [{ name: 'deny-scanner', namespace: 'data' }] };
  assert.deepEqual(policyVerdicts([named, ...drops]), [
    { policy: 'data/deny-scanner', verdict: 'denied', count: 1 },
    { policy: '(policy deny)', verdict: 'denied', count: 1 },
  ]);
});

test("journey: one connection's observation points on both nodes, in the packet's order", () => {
  const conn = labFlows.filter((f) => f.destination?.pod_name === 'api' && f.source?.pod_name === 'frontend');
  const steps = journey(conn[3]!, [...conn].reverse());
  assert.deepEqual(
    steps.map((s) => `${s.point}@${s.node}`),
    ['FROM_ENDPOINT@node1', 'TO_CRYPTO@node1', 'FROM_CRYPTO@node2', 'TO_ENDPOINT@node2'],
  );
});

test('routes: every screen a URL, filters and time range in the query', () => {
  const r = parseRoute('/flows', '?filter=pod%3Dshop%2Ffrontend&filter=encrypted%3Dfalse&since=5m');
  assert.deepEqual(r, {
    screen: 'flows',
    filters: ['pod=shop/frontend', 'encrypted=false'],
    namespaces: [],
    since: '5m',
    until: undefined,
  });
  assert.equal(formatRoute(r), '/flows?filter=pod%3Dshop%2Ffrontend&filter=encrypted%3Dfalse&since=5m');
  assert.equal(parseRoute('/nowhere', '').screen, 'map');
});

test('the flow ring is bounded: newest first, the oldest evicted', () => {
  const ring = new FlowRing<number>(3);
  for (let i = 1; i <= 5; i++) ring.push(i);
  assert.equal(ring.size, 3);
  assert.equal(ring.evicted, 2);
  assert.deepEqual([ring.newest(0), ring.newest(2), ring.newest(3)], [5, 3, undefined]);
  assert.deepEqual([...ring], [3, 4, 5]);
  assert.equal(ring.pushed, 5, 'the newest is item 4 (0-based), a key that stays with it');
  ring.clear();
  assert.equal(ring.pushed, 0);
});

test('pair window: the recent seconds decide, so a pair that turned plaintext shows Plaintext', () => {
  const w = new PairWindow();
  const t = Date.parse('2026-12-01T12:00:00Z');
  for (let s = 0; s < 20; s++) w.add(labFlows[2]!, t + s * 1000);
  const clear = flow(frontend, api, 'node1', 'FROM_ENDPOINT', { peer: 'node2' });
  for (let s = 20; s < 24; s++) w.add(clear, t + s * 1000);
  assert.deepEqual(w.counts(t + 23_500).get('node1→node2'), { encrypted: 0, plaintext: 3 });
  assert.deepEqual(w.counts(t + 120_000).size, 0, 'a minute without traffic: no traffic');
  assert.deepEqual(
    w.counts(t + 40_000).get('node1→node2'),
    { encrypted: 20, plaintext: 4 },
    'nothing in the last 3 s: the last minute',
  );
});

test('service map cards: the app label wins over name and k8s-app wherever it stands among the labels', () => {
  const ep = (labels: string[]) => ({ namespace: 'ns', pod_name: 'p-1', labels });
  const flow = (labels: string[]): FlowView => ({
    source: ep(labels),
    destination: ep(['k8s:app=dst']),
    l4: { TCP: { destination_port: 80 } },
  });
  const map = buildServiceMap([
    flow(['k8s:name=by-name', 'k8s:io.kubernetes.pod.namespace=ns', 'k8s:app=by-app']),
    flow(['k8s-app=by-k8s-app', 'k8s:name=named']),
    flow(['other=x']),
  ]);
  assert.deepEqual([...map.cards.keys()].sort(), ['ns/by-app', 'ns/dst', 'ns/named', 'ns/p-1']);
});
