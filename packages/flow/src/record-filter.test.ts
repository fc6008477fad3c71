import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import {
  DropReason,
  FlowFilterSchema,
  IPVersion,
  TrafficDirection,
  Verdict,
  type FlowFilter,
} from './gen/flow/flow_pb.js';
import { FlowFilterExtensionSchema, Mechanism } from './gen/wirescope/v1/wirescope_pb.js';
import { compileFilterPredicates, compileFilters, FilterError, packFilterExtension } from './filter.js';
import { loadRecordedRecords } from './fixtures.js';
import { FlowExtension, RecordL4, recordToFlow, type FlowRecord } from './record.js';

type FilterInit = Parameters<typeof create<typeof FlowFilterSchema>>[1];
const ff = (init: FilterInit): FlowFilter => create(FlowFilterSchema, init);
const ext = (init: { peerNode?: string[]; mechanism?: Mechanism[] }) =>
  packFilterExtension(create(FlowFilterExtensionSchema, init));

const recorded = loadRecordedRecords();

/**
 * SYNTHETIC variants of recorded records for the record shapes the recording lacks (no IP,
 * no or an empty l4, SCTP, ICMPv6, TCP without flags, no reply/interface/event type/endpoints,
 * an extension of another type): each starts from a recorded record and changes one thing.
 */
function syntheticVariants(): FlowRecord[] {
  const tcp = recorded.find((r) => r.l4 === RecordL4.TCP && r.tcpFlags > 0)!;
  const udp = recorded.find((r) => r.l4 === RecordL4.UDP)!;
  const icmp = recorded.find((r) => r.l4 === RecordL4.ICMPv4)!;
  const encrypted = recorded.find((r) => r.ipEncrypted)!;
  const onLxc = recorded.find((r) => r.interfaceName === 'lxc77c0a4b1')!;
  const vary = (base: FlowRecord, change: Partial<FlowRecord>): FlowRecord => ({ ...base, ...change });
  return [
    vary(tcp, { hasIP: false, ipSource: '', ipDestination: '', ipVersion: 0, ipEncrypted: false }),
    // fields a record's flags say are absent, left filled: recordToFlow ignores them, so must filters
    vary(tcp, { hasIP: false }),
    vary(encrypted, { hasIP: false }),
    vary(udp, { tcpFlags: 0x12 }),
    vary(icmp, { sourcePort: 53, destinationPort: 53 }),
    vary(onLxc, { interfaceIndex: -1, eventType: -1, isReply: -1 }),
    vary(tcp, { l4: RecordL4.ABSENT, sourcePort: 0, destinationPort: 0, tcpFlags: -1 }),
    vary(tcp, { l4: RecordL4.EMPTY, sourcePort: 0, destinationPort: 0, tcpFlags: -1 }),
    vary(tcp, { tcpFlags: -1 }),
    vary(tcp, { tcpFlags: 0x100 | 0x02 }),
    vary(udp, { l4: RecordL4.SCTP }),
    vary(icmp, { l4: RecordL4.ICMPv6, ipVersion: IPVersion.IPv6, icmpType: 128 }),
    vary(udp, { isReply: -1, interfaceIndex: -1, interfaceName: '', eventType: -1, eventSubType: 0 }),
    vary(udp, { source: undefined, destination: undefined }),
    vary(tcp, { extensions: undefined }),
    vary(tcp, {
      extensions: new FlowExtension(
        create(AnySchema, { typeUrl: 'type.googleapis.com/acme.Other', value: new Uint8Array([8, 2]) }),
      ),
    }),
  ];
}
const records = [...recorded, ...syntheticVariants()];

/** Filters that set one field each: every field kind compileClauses knows, matching and not. */
const single: Record<string, FilterInit[]> = {
  uuid: [{ uuid: [recorded[5]!.uuid, recorded[40]!.uuid] }, { uuid: ['no-such-uuid'] }],
  ip: [
    { sourceIp: ['10.244.1.10'] },
    { destinationIp: ['10.244.2.0/24'] },
    { sourceIp: ['fd00:10:244::/48'] },
    { destinationIp: ['0.0.0.0/0'] },
  ],
  pod: [
    { sourcePod: ['default/client-'] },
    { destinationPod: ['kube-system/'] },
    { sourcePod: ['default/client-', 'monitoring/'] },
    { destinationPod: ['default/server-nope'] },
  ],
  service: [{ sourceService: ['default/'] }, { destinationService: ['default/server'] }],
  fqdn: [{ sourceFqdn: ['*.cluster.local'] }, { destinationFqdn: ['*'] }],
  label: [
    { sourceLabel: ['k8s:app=client'] },
    { sourceLabel: ['app=client'] },
    { destinationLabel: ['app in (server, coredns)'] },
    { destinationLabel: ['app notin (server,coredns),app'] },
    { sourceLabel: ['!app'] },
    { destinationLabel: ['!tier'] },
    { sourceLabel: ['reserved:app=client'] },
  ],
  nodeLabels: [{ nodeLabels: ['kubernetes.io/hostname=wst-node-2'] }, { nodeLabels: ['!zone'] }],
  workload: [
    { destinationWorkload: [{ name: 'server' }] },
    { sourceWorkload: [{ kind: 'Deployment' }] },
    { destinationWorkload: [{ kind: 'StatefulSet' }] },
  ],
  identity: [{ sourceIdentity: [1] }, { sourceIdentity: [2] }, { destinationIdentity: [10550, 0] }],
  port: [
    { destinationPort: ['53'] },
    { sourcePort: ['53', '80'] },
    { destinationPort: ['80', '8080'] },
    { sourcePort: ['0'] },
  ],
  trafficDirection: [{ trafficDirection: [TrafficDirection.INGRESS] }, { trafficDirection: [0] }],
  verdict: [{ verdict: [Verdict.DROPPED] }, { verdict: [Verdict.FORWARDED, Verdict.AUDIT] }],
  dropReasonDesc: [
    { dropReasonDesc: [DropReason.UNENCRYPTED_TRAFFIC] },
    { dropReasonDesc: [DropReason.POLICY_DENIED] },
  ],
  ipVersion: [{ ipVersion: [IPVersion.IPv6] }, { ipVersion: [IPVersion.IP_NOT_USED] }],
  interface: [{ interface: [{ name: 'lxc77c0a4b1' }] }, { interface: [{ index: 14 }] }],
  eventType: [
    { eventType: [{ type: 1 }] },
    { eventType: [{ type: 4, matchSubType: true, subType: 0 }] },
    { eventType: [{ type: 4 }] },
  ],
  httpStatusCode: [{ httpStatusCode: ['2+'] }, { httpStatusCode: ['404'] }],
  protocol: [
    { protocol: ['UDP'] },
    { protocol: ['tcp'] },
    { protocol: ['icmp'] },
    { protocol: ['icmpv6', 'sctp'] },
    { protocol: ['http', 'dns'] },
    { protocol: ['kafka'] },
  ],
  reply: [{ reply: [true] }, { reply: [false] }, { reply: [true, false] }],
  encrypted: [{ encrypted: [true] }, { encrypted: [false] }],
  dnsQuery: [{ dnsQuery: ['.*'] }],
  httpPath: [{ httpPath: ['^/'] }],
  httpMethod: [{ httpMethod: ['get'] }],
  nodeName: [{ nodeName: ['wst-node-?'] }, { nodeName: ['*-2'] }],
  tcpFlags: [
    { tcpFlags: [{ SYN: true }] },
    { tcpFlags: [{ SYN: true, ACK: true }] },
    { tcpFlags: [{ FIN: true }, { RST: true }] },
    { tcpFlags: [{ NS: true }] },
  ],
  traceId: [{ traceId: ['abc'] }],
  peerNode: [
    { extensions: ext({ peerNode: ['wst-node-2'] }) },
    { extensions: ext({ peerNode: ['wst-node-2', 'wst-node-3'] }) },
    { extensions: ext({ peerNode: ['wst-node'] }) },
  ],
  mechanism: [
    { extensions: ext({ mechanism: [Mechanism.WIREGUARD] }) },
    { extensions: ext({ mechanism: [Mechanism.NONE, Mechanism.UNSPECIFIED] }) },
  ],
};

/** Kinds a FlowRecord cannot carry (recordToFlow leaves them unset): one answer for every record. */
const constantOnRecords = new Set([
  'service',
  'fqdn',
  'nodeLabels',
  'httpStatusCode',
  'dnsQuery',
  'httpPath',
  'httpMethod',
  'traceId',
]);

interface Case {
  name: string;
  whitelist: FilterInit[];
  blacklist: FilterInit[];
}

function cases(): Case[] {
  const out: Case[] = [{ name: 'none', whitelist: [], blacklist: [] }];
  for (const [kind, filters] of Object.entries(single)) {
    filters.forEach((f, i) => {
      out.push({ name: `${kind}[${i}]`, whitelist: [f], blacklist: [] });
      out.push({ name: `!${kind}[${i}]`, whitelist: [], blacklist: [f] });
    });
  }
  const all = Object.values(single).flat();
  // combinations: ANDed fields in one filter, ORed filters, whitelist minus blacklist
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    const b = all[(i * 7 + 3) % all.length]!;
    const c = all[(i * 13 + 5) % all.length]!;
    out.push({ name: `and(${i})`, whitelist: [{ ...a, ...b }], blacklist: [] });
    out.push({ name: `or(${i})`, whitelist: [a, b], blacklist: [] });
    out.push({ name: `allow-deny(${i})`, whitelist: [a, b], blacklist: [c] });
  }
  // what followers typically send: hubble's --namespace is two filters, flags ANDed into each
  const ns = (n: string, more: FilterInit) => [
    { sourcePod: [`${n}/`], ...more },
    { destinationPod: [`${n}/`], ...more },
  ];
  out.push({
    name: 'namespace+verdict',
    whitelist: ns('default', { verdict: [Verdict.FORWARDED] }),
    blacklist: [],
  });
  out.push({
    name: 'namespace+label-not-dns',
    whitelist: ns('default', { sourceLabel: ['k8s:app=client'] }),
    blacklist: [{ destinationPort: ['53'] }],
  });
  out.push({
    name: 'unencrypted-to-peer',
    whitelist: [{ encrypted: [false], extensions: ext({ peerNode: ['wst-node-2'] }) }],
    blacklist: [{ verdict: [Verdict.DROPPED] }],
  });
  return out;
}

test('the record predicate agrees with the Flow predicate on every recorded flow, for every filter', () => {
  const flows = records.map(recordToFlow);
  const table = cases();
  const counts = new Map<string, number>();
  for (const c of table) {
    const pair = compileFilterPredicates(c.whitelist.map(ff), c.blacklist.map(ff));
    const onFlow = compileFilters(c.whitelist.map(ff), c.blacklist.map(ff));
    let n = 0;
    records.forEach((r, i) => {
      const want = onFlow(flows[i]!);
      assert.equal(pair.flow(flows[i]!), want, `${c.name}: the pair's Flow predicate`);
      assert.equal(pair.record(r), want, `${c.name}: record ${i} (${r.uuid})`);
      if (want) n++;
    });
    counts.set(c.name, n);
  }
  // not vacuous: most cases split the flows, and every kind a record carries splits them somewhere
  const splitting = [...counts.values()].filter((n) => n > 0 && n < records.length).length;
  assert.ok(splitting > table.length / 2, `${splitting} of ${table.length} cases split the flows`);
  for (const kind of Object.keys(single)) {
    const ns = single[kind]!.map((_, i) => counts.get(`${kind}[${i}]`)!);
    if (constantOnRecords.has(kind))
      assert.ok(
        ns.every((n) => n === 0 || n === records.length),
        `${kind}: a record carries none of it (${ns})`,
      );
    else
      assert.ok(
        ns.some((n) => n > 0 && n < records.length),
        `${kind} splits the flows: ${ns}`,
      );
  }
  assert.equal(counts.get('none'), records.length);
  assert.equal(counts.get('nodeLabels[0]'), 0);
  assert.equal(counts.get('nodeLabels[1]'), records.length, '!zone holds on no node labels');
  assert.ok(counts.get('namespace+verdict')! > 0);
});

test('a replaced Encryption extension on a record is rescanned', () => {
  const pair = compileFilterPredicates([ff({ extensions: ext({ peerNode: ['wst-node-2'] }) })], []);
  const r = recorded.find((x) => x.extensions !== undefined && pair.record(x))!;
  const other = recorded.find((x) => x.extensions !== undefined && !pair.record(x))!;
  assert.equal(pair.record({ ...r, extensions: other.extensions }), false);
  assert.equal(pair.record(r), true);
});

test('one validation: the pair refuses what compileFilters refuses, with the same message', () => {
  const bad: FilterInit[] = [
    { sourceIp: ['10.0.0.300'] },
    { sourcePod: ['nons'] },
    { tcpFlags: [{}] },
    { verdict: [42] },
    { extensions: ext({ peerNode: [''] }) },
  ];
  for (const init of bad) {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof FilterError);
        return err.message;
      }
      assert.fail('accepted');
    };
    assert.equal(
      message(() => compileFilterPredicates([], [ff(init)])),
      message(() => compileFilters([], [ff(init)])),
    );
  }
});
