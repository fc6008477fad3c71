import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FlowFilterSchema,
  FlowSchema,
  Verdict,
  TrafficDirection,
  IPVersion,
  DropReason,
  type Flow,
  type FlowFilter,
} from './gen/flow/flow_pb.js';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { FlowFilterExtensionSchema, Mechanism } from './gen/wirescope/v1/wirescope_pb.js';
import { compileFilters, FilterError, packFilterExtension } from './filter.js';
import { encryptionFields, encryptionOf, setEncryption } from './encryption.js';
import { loadRecordedFlows } from './fixtures.js';

const flows = loadRecordedFlows();
type FilterInit = Parameters<typeof create<typeof FlowFilterSchema>>[1];
const ff = (init: FilterInit): FlowFilter => create(FlowFilterSchema, init);
const run = (whitelist: FilterInit[], blacklist: FilterInit[] = []): Flow[] => {
  const match = compileFilters(whitelist.map(ff), blacklist.map(ff));
  return flows.filter(match);
};
const uuids = (list: Flow[]) => list.map((f) => f.uuid);

test('the recording covers what the filters need', () => {
  assert.equal(flows.length, 148);
  assert.ok(flows.some((f) => f.IP?.ipVersion === IPVersion.IPv6));
  assert.ok(flows.some((f) => f.verdict === Verdict.DROPPED));
});

test('no filters admit every flow', () => {
  assert.equal(run([]).length, flows.length);
});

test('source_ip exact and CIDR, destination_ip CIDR', () => {
  const exact = run([{ sourceIp: ['10.244.1.10'] }]);
  assert.ok(exact.length > 0);
  assert.ok(exact.every((f) => f.IP?.source === '10.244.1.10'));
  assert.equal(exact.length, flows.filter((f) => f.IP?.source === '10.244.1.10').length);

  const cidr = run([{ destinationIp: ['10.244.2.0/24'] }]);
  assert.equal(cidr.length, flows.filter((f) => f.IP?.destination.startsWith('10.244.2.')).length);
  assert.ok(cidr.length > 0);

  const v6 = run([{ sourceIp: ['fd00:10:244::/48'] }]);
  assert.equal(v6.length, 4);
  assert.ok(v6.every((f) => f.IP?.ipVersion === IPVersion.IPv6));
});

test('pod filters match namespace and name prefix; namespace alone with a trailing slash', () => {
  const byPrefix = run([{ sourcePod: ['default/client-'] }]);
  assert.ok(byPrefix.length > 0);
  assert.ok(
    byPrefix.every((f) => f.source?.namespace === 'default' && f.source.podName.startsWith('client-')),
  );
  const ns = run([{ destinationPod: ['kube-system/'] }]);
  assert.ok(ns.every((f) => f.destination?.namespace === 'kube-system'));
  assert.equal(ns.length, flows.filter((f) => f.destination?.namespace === 'kube-system').length);
  assert.equal(run([{ sourcePod: ['kube-system/client-'] }]).length, 0);
});

test('fields inside one filter AND, filters in a list OR', () => {
  const and = run([{ sourcePod: ['default/client-'], destinationPod: ['default/server-'] }]);
  assert.ok(
    and.every((f) => f.source?.podName.startsWith('client-') && f.destination?.podName.startsWith('server-')),
  );
  const or = run([{ sourcePod: ['default/client-'] }, { verdict: [Verdict.DROPPED] }]);
  const expected = flows.filter(
    (f) => f.source?.podName.startsWith('client-') || f.verdict === Verdict.DROPPED,
  );
  assert.deepEqual(uuids(or), uuids(expected));
  // values inside one field OR too
  assert.equal(run([{ verdict: [Verdict.DROPPED, Verdict.FORWARDED] }]).length, flows.length);
});

test('blacklist is subtracted from the whitelist (negation)', () => {
  const result = run([{ sourcePod: ['default/'] }], [{ destinationPort: ['80'] }]);
  assert.ok(result.length > 0);
  for (const f of result) {
    assert.equal(f.source?.namespace, 'default');
    const p = f.l4?.protocol;
    assert.ok(!(p && (p.case === 'TCP' || p.case === 'UDP') && p.value.destinationPort === 80));
  }
  // a blacklist alone removes from everything
  const noDrops = run([], [{ verdict: [Verdict.DROPPED] }]);
  assert.equal(noDrops.length, flows.length - 8);
});

test('label selectors: equality, set, existence, source prefix', () => {
  const app = run([{ sourceLabel: ['k8s:app=client'] }]);
  assert.ok(app.length > 0 && app.every((f) => f.source?.labels.includes('k8s:app=client')));
  assert.equal(
    run([{ sourceLabel: ['app=client'] }]).length,
    app.length,
    'no source prefix matches any source',
  );
  const set = run([{ destinationLabel: ['app in (server, coredns)'] }]);
  assert.equal(
    set.length,
    flows.filter((f) => f.destination?.labels.some((l) => l === 'k8s:app=server' || l === 'k8s:app=coredns'))
      .length,
  );
  const notin = run([{ destinationLabel: ['app notin (server,coredns),app'] }]);
  assert.ok(
    notin.length > 0 && notin.every((f) => !/app=(server|coredns)$/.test(f.destination?.labels[0] ?? '')),
  );
  assert.equal(run([{ sourceLabel: ['!app'] }]).length, 0);
  assert.equal(
    run([{ sourceLabel: ['reserved:app=client'] }]).length,
    0,
    'a different source prefix does not match',
  );
  assert.ok(
    run([{ nodeLabels: ['kubernetes.io/hostname=wst-node-2'] }]).every((f) => f.nodeName === 'wst-node-2'),
  );
});

test('verdict, drop reason, event type, traffic direction, ip version', () => {
  assert.equal(run([{ dropReasonDesc: [DropReason.UNENCRYPTED_TRAFFIC] }]).length, 4);
  assert.equal(run([{ dropReasonDesc: [DropReason.POLICY_DENIED] }]).length, 4);
  assert.equal(run([{ eventType: [{ type: 1 }] }]).length, 8);
  const toEndpoint = run([{ eventType: [{ type: 4, matchSubType: true, subType: 0 }] }]);
  assert.ok(
    toEndpoint.length > 0 && toEndpoint.every((f) => f.eventType?.subType === 0 && f.eventType.type === 4),
  );
  const ingress = run([{ trafficDirection: [TrafficDirection.INGRESS] }]);
  assert.ok(ingress.length > 0 && ingress.every((f) => f.trafficDirection === TrafficDirection.INGRESS));
  assert.equal(run([{ ipVersion: [IPVersion.IPv6] }]).length, 4);
});

test('protocol, ports, tcp flags, reply', () => {
  const udp = run([{ protocol: ['UDP'] }]);
  assert.ok(udp.every((f) => f.l4?.protocol.case === 'UDP'));
  assert.equal(run([{ protocol: ['icmpv4'] }]).length, 4);
  assert.equal(run([{ protocol: ['http'] }]).length, 4);
  const dport = run([{ destinationPort: ['53'] }]);
  assert.ok(
    dport.length > 0 &&
      dport.every((f) => f.l4?.protocol.case === 'UDP' && f.l4.protocol.value.destinationPort === 53),
  );
  const syn = run([{ tcpFlags: [{ SYN: true }] }]);
  assert.ok(syn.every((f) => f.l4?.protocol.case === 'TCP' && f.l4.protocol.value.flags?.SYN));
  const synAck = run([{ tcpFlags: [{ SYN: true, ACK: true }] }]);
  assert.equal(synAck.length, 16);
  const replies = run([{ reply: [true] }]);
  assert.ok(replies.length > 0 && replies.every((f) => f.isReply === true));
  const unknown = flows.filter((f) => f.isReply === undefined).length;
  assert.equal(run([{ reply: [false] }]).length + replies.length + unknown, flows.length);
});

test('identity, node name glob, workload, interface, uuid, fqdn-less flows', () => {
  assert.ok(run([{ sourceIdentity: [1] }]).every((f) => f.source?.identity === 1));
  assert.equal(run([{ sourceIdentity: [2] }]).length, 4);
  const node = run([{ nodeName: ['wst-node-[0-9]'.replace('[0-9]', '?')] }]);
  assert.equal(node.length, flows.length);
  assert.ok(run([{ nodeName: ['*-2'] }]).every((f) => f.nodeName === 'wst-node-2'));
  const wl = run([{ destinationWorkload: [{ name: 'server' }] }]);
  assert.ok(wl.length > 0 && wl.every((f) => f.destination?.podName.startsWith('server-')));
  assert.equal(run([{ destinationWorkload: [{ kind: 'StatefulSet' }] }]).length, 0);
  const iface = run([{ interface: [{ name: 'lxc77c0a4b1' }] }]);
  assert.ok(iface.length > 0 && iface.every((f) => f.interface?.name === 'lxc77c0a4b1'));
  assert.deepEqual(uuids(run([{ uuid: [flows[5]!.uuid] }])), [flows[5]!.uuid]);
  assert.equal(run([{ destinationFqdn: ['*.cluster.local'] }]).length, 0);
});

test('encrypted filter follows IP.encrypted', () => {
  const enc = run([{ encrypted: [true] }]);
  const plain = run([{ encrypted: [false] }]);
  assert.ok(enc.length > 0 && plain.length > 0);
  assert.equal(enc.length + plain.length, flows.length);
  assert.ok(enc.every((f) => f.IP?.encrypted));
});

test('invalid filters name the field and the reason', () => {
  const bad: [FilterInit, RegExp][] = [
    [{ sourceIp: ['10.0.0.300'] }, /^whitelist\[0\]\.source_ip: "10\.0\.0\.300" is not an IP/],
    [{ destinationIp: ['10.0.0.0/33'] }, /destination_ip: .*invalid prefix length/],
    [{ sourcePod: ['nons'] }, /source_pod: "nons" must be "namespace\//],
    [{ sourceLabel: ['app in (a'] }, /source_label: unbalanced/],
    [{ dnsQuery: ['(['] }, /dns_query: invalid regular expression/],
    [{ protocol: ['tcpx'] }, /protocol: unknown protocol "tcpx"; accepted: tcp/],
    [{ destinationPort: ['70000'] }, /destination_port: "70000" is not a port/],
    [{ verdict: [42] }, /verdict: unknown value 42; accepted: VERDICT_UNKNOWN/],
    [{ tcpFlags: [{}] }, /tcp_flags: set at least one flag/],
    [{ httpStatusCode: ['6xx'] }, /http_status_code/],
  ];
  for (const [init, re] of bad) {
    assert.throws(
      () => compileFilters([ff(init)], []),
      (err: unknown) => err instanceof FilterError && re.test(err.message),
    );
  }
  assert.throws(
    () => compileFilters([], [ff({ sourceIp: ['x'] })]),
    /^FilterError: blacklist\[0\]\.source_ip/,
  );
});

/** A FlowFilter as the stock hubble CLI would send it, with extra fields Wirescope's proto lacks. */
function filterWithForeignFields(init: FilterInit, extra: { no: number; value: string }[]): FlowFilter {
  const known = toBinary(FlowFilterSchema, create(FlowFilterSchema, init));
  const parts: number[] = [...known];
  for (const { no, value } of extra) {
    let tag = (no << 3) | 2; // length-delimited
    while (tag > 127) {
      parts.push((tag & 127) | 128);
      tag >>>= 7;
    }
    parts.push(tag, value.length, ...Buffer.from(value));
  }
  return fromBinary(FlowFilterSchema, Uint8Array.from(parts));
}

test('a filter field Wirescope does not implement is refused, naming it and the hubble flag', () => {
  const byCluster = filterWithForeignFields({ sourcePod: ['default/'] }, [{ no: 37, value: 'eu-1' }]);
  assert.throws(
    () => compileFilters([byCluster], []),
    (err: unknown) =>
      err instanceof FilterError &&
      err.message ===
        'whitelist[0]: not supported by Wirescope: field 37 source_cluster_name (hubble observe --cluster / --from-cluster)',
  );
  // in a blacklist too (ignoring it there would hide nothing the user asked to hide)
  const unknownToBoth = filterWithForeignFields({}, [
    { no: 999, value: '' },
    { no: 77, value: 'x' },
  ]);
  assert.throws(
    () => compileFilters([], [unknownToBoth]),
    /^FilterError: blacklist\[0\]: not supported by Wirescope: field 77, field 999 experimental\.cel_expression/,
  );
  // the same filter without the foreign field compiles and matches
  assert.ok(run([{ sourcePod: ['default/'] }]).length > 0);
});

const ext = (init: { peerNode?: string[]; mechanism?: Mechanism[] }) =>
  packFilterExtension(create(FlowFilterExtensionSchema, init));

test('Wirescope extension: peer_node and mechanism read the Encryption extension', () => {
  const peerOf = (f: Flow) => encryptionOf(f)?.peerNode ?? '';
  const mechanismOf = (f: Flow) => encryptionOf(f)?.mechanism ?? Mechanism.UNSPECIFIED;

  const toNode2 = run([{ extensions: ext({ peerNode: ['wst-node-2'] }) }]);
  assert.deepEqual(uuids(toNode2), uuids(flows.filter((f) => peerOf(f) === 'wst-node-2')));
  assert.ok(toNode2.length > 0);

  const either = run([{ extensions: ext({ peerNode: ['wst-node-2', 'wst-node-3'] }) }]);
  assert.deepEqual(
    uuids(either),
    uuids(flows.filter((f) => ['wst-node-2', 'wst-node-3'].includes(peerOf(f)))),
  );
  assert.equal(run([{ extensions: ext({ peerNode: ['wst-node'] }) }]).length, 0, 'exact, not a prefix');

  const wg = run([{ extensions: ext({ mechanism: [Mechanism.WIREGUARD] }) }]);
  assert.deepEqual(uuids(wg), uuids(flows.filter((f) => mechanismOf(f) === Mechanism.WIREGUARD)));
  const none = run([{ extensions: ext({ mechanism: [Mechanism.NONE] }) }]);
  assert.ok(none.length > 0);
  assert.ok(none.every((f) => mechanismOf(f) === Mechanism.NONE));
  // flows without an Encryption extension are MECHANISM_UNSPECIFIED
  const unspecified = run([{ extensions: ext({ mechanism: [Mechanism.UNSPECIFIED] }) }]);
  assert.ok(unspecified.length > 0 && unspecified.every((f) => mechanismOf(f) === Mechanism.UNSPECIFIED));

  // ANDed with the rest of its filter; ORed across filters; negated in the blacklist
  const both = run([
    { nodeName: ['wst-node-3'], extensions: ext({ peerNode: ['wst-node-2'], mechanism: [Mechanism.NONE] }) },
  ]);
  assert.deepEqual(
    uuids(both),
    uuids(
      flows.filter(
        (f) => f.nodeName === 'wst-node-3' && peerOf(f) === 'wst-node-2' && mechanismOf(f) === Mechanism.NONE,
      ),
    ),
  );
  assert.ok(both.length > 0);
  const notNode2 = run([], [{ extensions: ext({ peerNode: ['wst-node-2'] }) }]);
  assert.equal(notNode2.length, flows.length - toNode2.length);
  assert.ok(notNode2.every((f) => peerOf(f) !== 'wst-node-2'));
});

test('Wirescope extension: a replaced Encryption is rescanned; the filter survives the wire', () => {
  const flow = setEncryption(create(FlowSchema, { uuid: 'x' }), {
    mechanism: Mechanism.WIREGUARD,
    peerNode: 'b',
  });
  const byPeer = compileFilters([ff({ extensions: ext({ peerNode: ['b'] }) })], []);
  const byMechanism = compileFilters([ff({ extensions: ext({ mechanism: [Mechanism.WIREGUARD] }) })], []);
  assert.equal(byPeer(flow), true);
  assert.equal(byMechanism(flow), true);
  assert.deepEqual(
    { ...encryptionFields(flow), bytes: undefined },
    {
      mechanism: Mechanism.WIREGUARD,
      bytes: undefined,
      peerStart: 4,
      peerEnd: 5,
    },
  );
  setEncryption(flow, { mechanism: Mechanism.NONE, peerNode: 'c', peerPublicKey: 'k', leak: true });
  assert.equal(byPeer(flow), false);
  assert.equal(byMechanism(flow), false);
  flow.extensions = undefined;
  assert.equal(encryptionFields(flow).mechanism, Mechanism.UNSPECIFIED);
  // the extension survives the wire (a relay re-encodes the request)
  const wire = fromBinary(
    FlowFilterSchema,
    toBinary(FlowFilterSchema, ff({ extensions: ext({ peerNode: ['b'] }) })),
  );
  assert.equal(wire.extensions?.typeUrl, 'type.googleapis.com/wirescope.v1.FlowFilterExtension');
  assert.equal(
    packFilterExtension(create(FlowFilterExtensionSchema)),
    undefined,
    'an empty extension is not sent',
  );
});

test('Wirescope extension: invalid values name the field', () => {
  const fails = (f: FilterInit, re: RegExp) =>
    assert.throws(
      () => compileFilters([ff(f)], []),
      (err: unknown) => err instanceof FilterError && re.test(err.message),
    );
  fails({ extensions: ext({ peerNode: [''] }) }, /^whitelist\[0\]\.extensions\.peer_node: empty node name$/);
  fails(
    { extensions: ext({ mechanism: [7 as Mechanism] }) },
    /^whitelist\[0\]\.extensions\.mechanism: unknown value 7; accepted: MECHANISM_UNSPECIFIED, MECHANISM_NONE, MECHANISM_WIREGUARD$/,
  );
  fails(
    {
      extensions: create(AnySchema, { typeUrl: 'type.googleapis.com/acme.Filter', value: new Uint8Array() }),
    },
    /^whitelist\[0\]\.extensions: unknown type "type\.googleapis\.com\/acme\.Filter"; accepted: type\.googleapis\.com\/wirescope\.v1\.FlowFilterExtension$/,
  );
  // a field a newer client added: refused, not ignored (it would match everything)
  const newer = new Uint8Array([0x18, 0x01]);
  fails(
    {
      extensions: create(AnySchema, {
        typeUrl: 'type.googleapis.com/wirescope.v1.FlowFilterExtension',
        value: newer,
      }),
    },
    /^whitelist\[0\]\.extensions: not supported by this Wirescope: field 3$/,
  );
  fails(
    {
      extensions: create(AnySchema, {
        typeUrl: 'type.googleapis.com/wirescope.v1.FlowFilterExtension',
        value: new Uint8Array([0x0a, 0x05]),
      }),
    },
    /^whitelist\[0\]\.extensions: malformed wirescope\.v1\.FlowFilterExtension/,
  );
});
