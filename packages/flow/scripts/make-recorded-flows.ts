// Writes testdata/recorded-flows.jsonl: a synthetic recording of the lab cluster's traffic (three
// nodes, WireGuard between them), one protojson Flow per line. Tests and benchmarks replay it;
// it is never served as live data. Run: node --import tsx scripts/make-recorded-flows.ts
import { writeFileSync } from 'node:fs';
import { create, toJson } from '@bufbuild/protobuf';
import { FlowSchema, type Flow } from '../src/gen/flow/flow_pb.js';
import { setEncryption, registry } from '../src/encryption.js';
import { Mechanism } from '../src/gen/wirescope/v1/wirescope_pb.js';

interface Pod {
  ns: string;
  name: string;
  ip: string;
  ip6: string;
  node: string;
  identity: number;
  id: number;
  app: string;
  iface: string;
  ifindex: number;
}
const pods: Record<string, Pod> = {
  client: {
    ns: 'default',
    name: 'client-6d8f9c7b5-x2k4m',
    ip: '10.244.1.10',
    ip6: 'fd00:10:244:1::10',
    node: 'wst-node-1',
    identity: 48312,
    id: 1201,
    app: 'client',
    iface: 'lxc8a1f0c2e',
    ifindex: 14,
  },
  denied: {
    ns: 'default',
    name: 'denied-client-5b7d8-q9w8e',
    ip: '10.244.1.11',
    ip6: 'fd00:10:244:1::11',
    node: 'wst-node-1',
    identity: 51977,
    id: 1202,
    app: 'denied-client',
    iface: 'lxc3b2d9e10',
    ifindex: 15,
  },
  server: {
    ns: 'default',
    name: 'server-7c9b5d4f8-h7j2p',
    ip: '10.244.2.20',
    ip6: 'fd00:10:244:2::20',
    node: 'wst-node-2',
    identity: 23401,
    id: 2301,
    app: 'server',
    iface: 'lxc77c0a4b1',
    ifindex: 21,
  },
  coredns: {
    ns: 'kube-system',
    name: 'coredns-5d78c9869d-tmx7q',
    ip: '10.244.3.53',
    ip6: 'fd00:10:244:3::53',
    node: 'wst-node-3',
    identity: 10550,
    id: 3101,
    app: 'coredns',
    iface: 'lxc51e9f7a3',
    ifindex: 31,
  },
  udpsender: {
    ns: 'monitoring',
    name: 'udp-sender-84f6c-m2n3b',
    ip: '10.244.3.40',
    ip6: 'fd00:10:244:3::40',
    node: 'wst-node-3',
    identity: 60211,
    id: 3102,
    app: 'udp-sender',
    iface: 'lxc0d4e6f82',
    ifindex: 32,
  },
};
const nodeIp: Record<string, string> = {
  'wst-node-1': '192.168.77.11',
  'wst-node-2': '192.168.77.12',
  'wst-node-3': '192.168.77.13',
};
const nodeIndex: Record<string, number> = { 'wst-node-1': 1, 'wst-node-2': 2, 'wst-node-3': 3 };

function endpoint(p: Pod) {
  return {
    ID: p.id,
    identity: p.identity,
    clusterName: 'wirescope-lab',
    namespace: p.ns,
    podName: p.name,
    labels: [
      `k8s:app=${p.app}`,
      `k8s:io.kubernetes.pod.namespace=${p.ns}`,
      'k8s:io.cilium.k8s.policy.cluster=wirescope-lab',
    ],
    workloads: [{ name: p.name.split('-').slice(0, -2).join('-'), kind: 'Deployment' }],
  };
}

const start = Date.UTC(2026, 10, 21, 10, 0, 0);
let seq = 0;
const flows: Flow[] = [];

function uuid(n: number): string {
  const h = ((n * 2654435761) >>> 0).toString(16).padStart(8, '0');
  return `${h}-5c1e-4a0b-9d3f-${String(n).padStart(12, '0')}`;
}

type Point = 'from-endpoint' | 'to-crypto' | 'from-crypto' | 'to-endpoint' | 'to-network' | 'drop';
const pointNum: Record<string, [number, number]> = {
  // [TraceObservationPoint enum, datapath sub_type]
  'from-endpoint': [5, 5],
  'to-crypto': [13, 13],
  'from-crypto': [12, 12],
  'to-endpoint': [101, 0],
  'to-network': [11, 11],
};

interface Opts {
  src: Pod;
  dst: Pod;
  node: string;
  point: Point;
  l4: Flow['l4'];
  reply?: boolean | undefined;
  dropReason?: number;
  ipv6?: boolean;
  encrypted?: boolean;
  leak?: boolean;
  l7?: Flow['l7'];
}

function flow(o: Opts): void {
  const n = seq++;
  const t = start + n * 7;
  const cross = o.src.node !== o.dst.node;
  const dropped = o.point === 'drop';
  const sender = o.reply ? o.dst : o.src;
  const ifacePod = o.node === o.src.node ? o.src : o.dst;
  const f = create(FlowSchema, {
    time: { seconds: BigInt(Math.floor(t / 1000)), nanos: (t % 1000) * 1e6 + (n % 1000) * 1000 },
    uuid: uuid(n + 1),
    verdict: dropped ? 2 : 1,
    dropReason: dropped ? (o.dropReason ?? 0) : 0,
    dropReasonDesc: dropped ? (o.dropReason ?? 0) : 0,
    ethernet: { source: '02:00:00:00:00:01', destination: '02:00:00:00:00:02' },
    IP: {
      source: o.ipv6 ? o.src.ip6 : o.src.ip,
      destination: o.ipv6 ? o.dst.ip6 : o.dst.ip,
      ipVersion: o.ipv6 ? 2 : 1,
      encrypted: !!o.encrypted,
    },
    l4: o.l4,
    source: endpoint(o.src),
    destination: endpoint(o.dst),
    Type: o.l7 ? 2 : 1,
    nodeName: o.node,
    nodeLabels: [`kubernetes.io/hostname=${o.node}`, 'topology.kubernetes.io/zone=lab'],
    eventType: dropped
      ? { type: 1, subType: o.dropReason ?? 0 }
      : o.l7
        ? { type: 129, subType: 0 }
        : { type: 4, subType: pointNum[o.point]![1] },
    traceObservationPoint: dropped || o.l7 ? 0 : pointNum[o.point]![0],
    traceReason: dropped ? 0 : o.reply ? 3 : 1,
    trafficDirection: o.node === sender.node ? 2 : 1,
    isReply: o.reply,
    interface: { index: ifacePod.ifindex, name: ifacePod.iface },
    l7: o.l7,
  });
  void nodeIp;
  if (cross) {
    if (o.leak) setEncryption(f, { mechanism: Mechanism.NONE, peerNode: o.dst.node, leak: true });
    else if (o.encrypted) {
      const peer = o.node === o.src.node ? o.dst.node : o.src.node;
      setEncryption(f, {
        mechanism: Mechanism.WIREGUARD,
        peerNode: peer,
        peerPublicKey: Buffer.alloc(32, nodeIndex[peer]!).toString('base64'),
        receiverIndex: 0x1000 * nodeIndex[o.node]! + nodeIndex[peer]!,
      });
    }
  }
  flows.push(f);
}

const tcp = (sp: number, dp: number, flags: Record<string, boolean>): Flow['l4'] =>
  create(FlowSchema, {
    l4: { protocol: { case: 'TCP', value: { sourcePort: sp, destinationPort: dp, flags } } },
  }).l4;
const udp = (sp: number, dp: number): Flow['l4'] =>
  create(FlowSchema, { l4: { protocol: { case: 'UDP', value: { sourcePort: sp, destinationPort: dp } } } })
    .l4;

const { client, denied, server, coredns, udpsender } = pods as Record<string, Pod> & typeof pods;

for (let round = 0; round < 4; round++) {
  const port = 44350 + round;
  // DNS lookup of the server, client (node 1) -> coredns (node 3), encrypted across nodes.
  flow({
    src: client,
    dst: coredns,
    node: 'wst-node-1',
    point: 'from-endpoint',
    l4: udp(53000 + round, 53),
    reply: false,
  });
  flow({
    src: client,
    dst: coredns,
    node: 'wst-node-1',
    point: 'to-crypto',
    l4: udp(53000 + round, 53),
    reply: false,
    encrypted: true,
  });
  flow({
    src: client,
    dst: coredns,
    node: 'wst-node-3',
    point: 'to-endpoint',
    l4: udp(53000 + round, 53),
    reply: false,
    encrypted: true,
  });
  flow({
    src: coredns,
    dst: client,
    node: 'wst-node-3',
    point: 'to-crypto',
    l4: udp(53, 53000 + round),
    reply: true,
    encrypted: true,
  });
  // HTTP: client (node 1) -> server (node 2), the handshake at every observation point.
  for (const [flags, reply] of [
    [{ SYN: true }, false],
    [{ SYN: true, ACK: true }, true],
    [{ ACK: true }, false],
    [{ ACK: true, PSH: true }, false],
    [{ ACK: true, PSH: true }, true],
    [{ ACK: true, FIN: true }, false],
  ] as const) {
    const [s, d, sp, dp] = reply ? [server, client, 80, port] : [client, server, port, 80];
    const near = s.node;
    const far = d.node;
    flow({ src: s, dst: d, node: near, point: 'from-endpoint', l4: tcp(sp, dp, flags), reply });
    flow({ src: s, dst: d, node: near, point: 'to-crypto', l4: tcp(sp, dp, flags), reply, encrypted: true });
    flow({ src: s, dst: d, node: far, point: 'from-crypto', l4: tcp(sp, dp, flags), reply, encrypted: true });
    flow({ src: s, dst: d, node: far, point: 'to-endpoint', l4: tcp(sp, dp, flags), reply, encrypted: true });
  }
  // HTTP request seen by L7 visibility on the server node.
  flow({
    src: client,
    dst: server,
    node: 'wst-node-2',
    point: 'to-endpoint',
    l4: tcp(port, 80, {}),
    reply: false,
    encrypted: true,
    l7: create(FlowSchema, {
      l7: {
        type: 1,
        record: {
          case: 'http',
          value: {
            method: 'GET',
            url: `http://server.default/api/items/${round}`,
            protocol: 'HTTP/1.1',
            code: 0,
          },
        },
      },
    }).l7,
  });
  // The denied client is dropped by policy at the server's node.
  flow({
    src: denied,
    dst: server,
    node: 'wst-node-2',
    point: 'drop',
    l4: tcp(38000 + round, 80, { SYN: true }),
    reply: false,
    dropReason: 133,
    encrypted: true,
  });
  // Strict mode drops pod traffic that would have left in clear.
  flow({
    src: udpsender,
    dst: client,
    node: 'wst-node-3',
    point: 'drop',
    l4: udp(40000 + round, 9999),
    reply: false,
    dropReason: 195,
  });
  // A plaintext leak: pod-CIDR traffic seen on the underlay in clear.
  flow({
    src: udpsender,
    dst: server,
    node: 'wst-node-3',
    point: 'to-network',
    l4: udp(41000 + round, 5353),
    reply: false,
    leak: true,
  });
  // UDP to a closed port on the same node: ICMP port unreachable back.
  flow({
    src: udpsender,
    dst: coredns,
    node: 'wst-node-3',
    point: 'to-endpoint',
    l4: udp(42000 + round, 9),
    reply: false,
  });
  flow({
    src: coredns,
    dst: udpsender,
    node: 'wst-node-3',
    point: 'to-endpoint',
    l4: create(FlowSchema, { l4: { protocol: { case: 'ICMPv4', value: { type: 3, code: 3 } } } }).l4,
    reply: true,
  });
  // IPv6 between the client and the server.
  flow({
    src: client,
    dst: server,
    node: 'wst-node-1',
    point: 'to-crypto',
    l4: tcp(46000 + round, 8080, { SYN: true }),
    reply: false,
    ipv6: true,
    encrypted: true,
  });
  // Node health check from the host (reserved identity) with unknown direction.
  const host: Pod = {
    ...server,
    ns: '',
    name: '',
    identity: 1,
    id: 0,
    app: 'host',
    ip: '192.168.77.12',
    ip6: 'fd00:77::12',
  };
  flow({
    src: host,
    dst: server,
    node: 'wst-node-2',
    point: 'to-endpoint',
    l4: tcp(50000 + round, 4240, { SYN: true }),
    reply: undefined,
  });
  // Traffic from outside the cluster (reserved world identity).
  const world: Pod = {
    ...server,
    ns: '',
    name: '',
    identity: 2,
    id: 0,
    app: 'world',
    ip: '203.0.113.9',
    ip6: '2001:db8::9',
  };
  flow({
    src: world,
    dst: coredns,
    node: 'wst-node-3',
    point: 'to-endpoint',
    l4: udp(61000 + round, 53),
    reply: false,
  });
}

const lines = flows.map((f) => JSON.stringify(toJson(FlowSchema, f, { useProtoFieldName: true, registry })));
writeFileSync(new URL('../testdata/recorded-flows.jsonl', import.meta.url), lines.join('\n') + '\n');
console.log(`wrote ${lines.length} flows`);
