import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYOUT } from '@wirescope/events';
import { Verdict } from '@wirescope/flow';
import { FlowObserver } from '../flows/observer.js';
import type { EnrichContext } from '../flows/enrich.js';
import { PolicyEngine } from './engine.js';
import type { PolicyRecord } from '../store/types.js';

const API_POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-from-shop, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
  - fromEndpoints: [{}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
`;
const record = (text: string, revision: number): PolicyRecord => ({
  kind: 'CiliumNetworkPolicy',
  name: 'api-from-shop',
  namespace: 'shop',
  text,
  file: 'api.yaml',
  revision,
});
const ENDPOINTS = [
  {
    namespace: 'shop',
    pod: 'frontend',
    labels: { app: 'frontend' },
    identity: 1001,
    interface: 'lxc1',
    node: 'n1',
  },
  { namespace: 'shop', pod: 'api', labels: { app: 'api' }, identity: 1002, interface: 'lxc2', node: 'n1' },
  {
    namespace: 'untrusted',
    pod: 'scanner',
    labels: { app: 'scanner' },
    identity: 1003,
    interface: 'lxc3',
    node: 'n2',
  },
];

test('the engine compiles only endpoints a policy selects, with cookies naming the policy', () => {
  const engine = new PolicyEngine(false, () => {});
  assert.equal(engine.setRecords([record(API_POLICY, 7)]), true);
  assert.equal(engine.setRecords([record(API_POLICY, 7)]), false, 'same records: nothing to do');
  const program = engine.program(ENDPOINTS, ENDPOINTS.slice(0, 2));
  assert.deepEqual(
    program.map((p) => [p.interface, p.flags]),
    [['lxc2', 0x1 | 0x4]],
  );
  const fromShop = program[0]!.entries.filter((e) => e.entry.port === 8080);
  assert.deepEqual(fromShop.map((e) => e.entry.identity).sort(), [1001, 1002]);
  assert.deepEqual(engine.attribution(fromShop[0]!.cookie), [
    { kind: 'CiliumNetworkPolicy', name: 'api-from-shop', namespace: 'shop', revision: 7 },
  ]);
  const status = engine.status();
  assert.deepEqual(status.endpoints.find((e) => e.endpoint === 'shop/api')?.ingress, {
    active: true,
    enforced: true,
    enforcedBy: ['shop/api-from-shop'],
  });
  assert.equal(
    engine.program(ENDPOINTS, ENDPOINTS.slice(0, 2))[0]!.generation,
    program[0]!.generation,
    'same content, same generation',
  );
  engine.setAudit(true, 'shop/api');
  const audited = engine.program(ENDPOINTS, ENDPOINTS.slice(0, 2))[0]!;
  assert.equal(audited.flags, 0x1 | 0x4 | 0x10);
  assert.notEqual(audited.generation, program[0]!.generation, 'open connections are looked up again');
});

test('a stored record that no longer parses is skipped and named, the rest still applies', () => {
  const logs: string[] = [];
  const engine = new PolicyEngine(false, (m) => logs.push(m));
  engine.setRecords([record(API_POLICY.replace('fromEndpoints', 'fromCIDR'), 1)]);
  assert.match(
    engine.status().rejected[0] ?? '',
    /^api\.yaml:7: spec\.ingress\[0\]\.fromCIDR: not implemented/,
  );
  assert.equal(logs.length, 1);
  assert.deepEqual(engine.program(ENDPOINTS, ENDPOINTS), []);
});

test('a policy-verdict record becomes a Hubble policy-verdict flow naming the policy', () => {
  const engine = new PolicyEngine(false, () => {});
  engine.setRecords([record(API_POLICY, 3)]);
  const [api] = engine.program(ENDPOINTS, ENDPOINTS.slice(1, 2));
  const cookie = api!.entries.find((e) => e.entry.identity === 1001 && e.entry.port === 8080)!.cookie;
  const ctx: EnrichContext = {
    nodeName: 'n1',
    endpointByIP: () => undefined,
    nodeById: () => undefined,
    nodeByUnderlayIP: () => undefined,
    interfaceName: (i) => (i === 12 ? 'lxc2' : undefined),
    receiverIndexFor: () => undefined,
    kernelDropReasonName: () => undefined,
    wallClockMs: () => 1_700_000_000_000,
    policyAttribution: (c) => engine.attribution(c),
    policyEnforcedBy: (_i, dir) => engine.enforcedBy('lxc2', dir),
  };
  const observer = new FlowObserver(ctx, 15);
  const make = (cookieValue: number, dropReason: number, audited: number) => {
    const L = LAYOUT.ws_policy_verdict_event;
    const P = LAYOUT.ws_packet_info.fields;
    const b = Buffer.alloc(L.size);
    b.writeUInt16LE(0x5753, 0);
    b.writeUInt8(1, 2);
    b.writeUInt8(6, 3);
    b.writeUInt16LE(L.size, 4);
    const at = L.fields.pkt.offset;
    Buffer.from([10, 244, 1, 11]).copy(b, at + P.saddr.offset);
    Buffer.from([10, 244, 2, 10]).copy(b, at + P.daddr.offset);
    b.writeUInt16LE(8080, at + P.dport.offset);
    b.writeUInt32LE(12, at + P.ifindex.offset);
    b.writeUInt8(4, at + P.family.offset);
    b.writeUInt8(6, at + P.protocol.offset);
    b.writeUInt8(2, at + P.tcp_flags.offset);
    b.writeUInt8(1, at + P.direction.offset);
    b.writeUInt32LE(cookieValue, L.fields.cookie.offset);
    b.writeUInt16LE(dropReason, L.fields.drop_reason.offset);
    b.writeUInt8(dropReason ? 0 : 2, L.fields.match_type.offset);
    b.writeUInt8(audited, L.fields.audited.offset);
    return b;
  };
  const records = [make(cookie, 0, 0), make(0, 133, 0), make(0, 133, 1)];
  const buffer = Buffer.concat(records);
  observer.onBatch({ buffer, offsets: Uint32Array.from([0, 104, 208, 312]), count: 3 });
  const [allowed, denied, audited] = observer.flows.last(3);
  assert.equal(allowed?.eventType?.type, 5);
  assert.equal(allowed?.verdict, Verdict.FORWARDED);
  assert.equal(allowed?.policyMatchType, 2);
  assert.equal(allowed?.isReply, false);
  assert.deepEqual(
    allowed?.ingressAllowedBy.map((p) => [p.name, p.namespace, p.kind, p.revision, p.labels[0]]),
    [
      [
        'api-from-shop',
        'shop',
        'CiliumNetworkPolicy',
        3n,
        'k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy',
      ],
    ],
  );
  assert.equal(denied?.verdict, Verdict.DROPPED);
  assert.equal(denied?.dropReason, 133);
  assert.equal(denied?.isReply, undefined, 'a deny prints <>');
  assert.deepEqual(
    denied?.ingressDeniedBy.map((p) => p.name),
    ['api-from-shop'],
    'the default deny is named',
  );
  assert.equal(audited?.verdict, Verdict.AUDIT);
});
