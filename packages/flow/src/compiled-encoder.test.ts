import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  create,
  createFileRegistry,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageShape,
} from '@bufbuild/protobuf';
import {
  AnySchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldOptions_JSType,
  FileDescriptorProtoSchema,
  StructSchema,
  TimestampSchema,
  ValueSchema,
  file_google_protobuf_struct,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { compileEncoder } from './compiled-encoder.js';
import {
  AuthType,
  DropReason,
  EndpointSchema,
  FlowFilterSchema,
  FlowSchema,
  FlowType,
  IPVersion,
  Layer4Schema,
  Layer7Schema,
  PolicySchema,
  LostEventSchema,
  TrafficDirection,
  Verdict,
  file_flow_flow,
  type Flow,
} from './gen/flow/flow_pb.js';
import {
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  file_observer_observer,
} from './gen/observer/observer_pb.js';
import { NodeState, NodeStatusEventSchema } from './gen/relay/relay_pb.js';
import { EncryptionSchema, Mechanism, file_wirescope_v1_wirescope } from './gen/wirescope/v1/wirescope_pb.js';
import { setEncryption } from './encryption.js';
import { loadRecordedFlows } from './fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** compiled(m) has toBinary(m)'s exact bytes, and reads back as m. */
function assertSameBytes<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  label = '',
  roundTrip = true,
): void {
  const compiled = compileEncoder(schema)(message);
  assert.equal(hex(compiled), hex(toBinary(schema, message)), `${schema.typeName} ${label}`);
  if (roundTrip)
    assert.deepEqual(fromBinary(schema, compiled), message, `${schema.typeName} ${label} round trip`);
}

test('recorded flows: byte-identical to toBinary, round trip deep-equal, no fallback', () => {
  const flows = loadRecordedFlows();
  assert.ok(flows.length > 100);
  const encode = compileEncoder(FlowSchema);
  const before = encode.fallbacks;
  for (const [i, flow] of flows.entries()) {
    const bytes = encode(flow);
    assert.equal(hex(bytes), hex(toBinary(FlowSchema, flow)), `recorded flow ${i}`);
    assert.deepEqual(fromBinary(FlowSchema, bytes), flow);
  }
  assert.equal(encode.fallbacks, before, 'recorded flows stay on the compiled path');
  // The recording exercises the constructs the edge cases below do not have to.
  const cases = new Set(flows.map((f) => f.l4?.protocol.case));
  for (const c of ['TCP', 'UDP', 'ICMPv4']) assert.ok(cases.has(c as never), `recording has l4 ${c}`);
  assert.ok(flows.some((f) => f.l7?.record.case === 'http'));
  assert.ok(flows.some((f) => f.extensions !== undefined));
});

test('frozen nested messages: written once, copied after, byte-identical (long ones too)', () => {
  const encode = compileEncoder(FlowSchema);
  const flows = loadRecordedFlows().filter((f) => f.source && f.destination);
  const longLabels = Array.from({ length: 40 }, (_, i) => `k8s:label-${i}=value-${i}`);
  const shared = Object.freeze(
    create(EndpointSchema, { namespace: 'shop', podName: 'api', identity: 1002, labels: longLabels }),
  );
  Object.freeze(shared.labels);
  for (const [i, recorded] of flows.slice(0, 50).entries()) {
    const flow = { ...recorded, destination: shared, source: Object.freeze({ ...recorded.source! }) };
    // twice: the first writes and keeps the bytes, the second copies them
    for (const round of [1, 2])
      assert.equal(hex(encode(flow)), hex(toBinary(FlowSchema, flow)), `flow ${i} round ${round}`);
  }
});

test('compileEncoder returns one cached encoder per schema', () => {
  assert.equal(compileEncoder(FlowSchema), compileEncoder(FlowSchema));
});

test('hand-built flows: empty, negatives, limits, bigints, non-ASCII, wrappers, oneofs, Any, $unknown', () => {
  const base = (init: Partial<Flow>): Flow => create(FlowSchema, init as never);
  const flows: [string, Flow][] = [
    ['empty', base({})],
    [
      'negative int32 and max uint32',
      base({
        eventType: { $typeName: 'flow.CiliumEventType', type: -1, subType: -2147483648 },
        dropReason: 0xffffffff,
        proxyPort: 0x7fffffff,
        policyMatchType: 128,
      }),
    ],
    ['large uint64', base({ socketCookie: 0xffffffffffffffffn, cgroupId: 0x20000000000000n })],
    ['uint64 just above 32 bits', base({ socketCookie: 0x100000000n, cgroupId: 0x1fffffffffffffn })],
    [
      'non-ASCII strings',
      base({
        nodeName: 'nœud-été',
        uuid: '🦀'.repeat(50),
        source: {
          $typeName: 'flow.Endpoint',
          ID: 1,
          identity: 2,
          clusterName: '',
          namespace: 'équipe',
          labels: ['k8s:app=café', 'k8s:emoji=🚀', 'x'.repeat(300), 'é'.repeat(200)],
          podName: 'pod-é-🙂',
          workloads: [],
        },
      }),
    ],
    ['empty sub-messages', base({ ethernet: { $typeName: 'flow.Ethernet', source: '', destination: '' } })],
    ['empty Layer4 (no case)', base({ l4: create(Layer4Schema) })],
    ['wrapper is_reply false', base({ isReply: false })],
    ['wrapper is_reply true', base({ isReply: true })],
    [
      'enums incl. large and negative',
      base({
        verdict: Verdict.DROPPED,
        authType: AuthType.SPIRE,
        Type: FlowType.L7,
        dropReasonDesc: DropReason.DROP_EP_NOT_READY,
        trafficDirection: -5 as TrafficDirection,
      }),
    ],
    ['timestamp', base({ time: create(TimestampSchema, { seconds: 1_800_000_000n, nanos: 999_999_999 }) })],
    ['negative timestamp', base({ time: create(TimestampSchema, { seconds: -62135596800n, nanos: 1 }) })],
    [
      'policies and summary (high field numbers)',
      base({
        Summary: 'TCP Flags: SYN',
        egressAllowedBy: [
          {
            $typeName: 'flow.Policy',
            name: 'allow',
            namespace: 'ns',
            labels: ['a', 'b'],
            revision: 9n,
            kind: 'CiliumNetworkPolicy',
          },
        ],
        ingressDeniedBy: [create(PolicySchema)],
        nodeLabels: ['', 'x'],
        sourceNames: ['a.example'],
        destinationNames: ['b.example', 'c.example'],
      }),
    ],
    [
      '$unknown fields',
      base({
        nodeName: 'n',
        $unknown: [
          { no: 7, wireType: 0, data: new Uint8Array([0x96, 0x01]) },
          { no: 99999, wireType: 2, data: new Uint8Array([3, 1, 2, 3]) },
        ],
      }),
    ],
  ];
  const l4 = Layer4Schema;
  flows.push(
    [
      'l4 tcp',
      base({ l4: create(l4, { protocol: { case: 'TCP', value: { sourcePort: 1, destinationPort: 443 } } }) }),
    ],
    [
      'l4 tcp flags',
      base({ l4: create(l4, { protocol: { case: 'TCP', value: { flags: { SYN: true, NS: true } } } }) }),
    ],
    ['l4 udp zero ports', base({ l4: create(l4, { protocol: { case: 'UDP', value: {} } }) })],
    ['l4 icmpv4', base({ l4: create(l4, { protocol: { case: 'ICMPv4', value: { type: 8, code: 0 } } }) })],
    ['l4 icmpv6', base({ l4: create(l4, { protocol: { case: 'ICMPv6', value: { type: 128 } } }) })],
    ['l4 sctp', base({ l4: create(l4, { protocol: { case: 'SCTP', value: { sourcePort: 9 } } }) })],
  );
  const l7 = Layer7Schema;
  flows.push(
    [
      'l7 dns',
      base({
        l7: create(l7, {
          type: 1,
          latencyNs: 123456789012n,
          record: { case: 'dns', value: { query: 'a.', ips: ['1.1.1.1', '::1'], ttl: 30, qtypes: ['A'] } },
        }),
      }),
    ],
    [
      'l7 http',
      base({
        l7: create(l7, {
          record: { case: 'http', value: { code: 200, method: 'GET', headers: [{ key: 'k', value: 'v' }] } },
        }),
      }),
    ],
  );
  flows.push([
    'extensions Any',
    setEncryption(base({ nodeName: 'n' }), {
      mechanism: Mechanism.WIREGUARD,
      peerNode: 'wst-node-2',
      peerPublicKey: 'AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=',
      receiverIndex: 0xffffffff,
      leak: true,
    }),
  ]);
  flows.push([
    'kernel drop: sub_type 255, Summary, kernel reason in the extension',
    setEncryption(
      base({
        verdict: Verdict.DROPPED,
        dropReason: 255,
        eventType: { $typeName: 'flow.CiliumEventType', type: 1, subType: 255 },
        Summary: 'UDP; kernel drop: NO_SOCKET',
      }),
      { mechanism: Mechanism.NONE, kernelDropReason: 'NO_SOCKET', kernelDropReasonCode: 3 },
    ),
  ]);
  flows.push(['Summary longer than 127 bytes', base({ Summary: `TCP Flags: ${'SYN, '.repeat(40)}ACK` })]);
  flows.push(['Any with empty value', base({ extensions: create(AnySchema, { typeUrl: 'x' }) })]);
  // A big flow: nested lengths need multi-byte varints and the scratch buffer has to grow.
  flows.push([
    'big',
    base({
      source: {
        $typeName: 'flow.Endpoint',
        ID: 1,
        identity: 2,
        clusterName: 'c',
        namespace: 'n',
        labels: Array.from({ length: 3000 }, (_, i) => `k8s:label-${i}=value-${i}`),
        podName: 'p',
        workloads: [],
      },
    }),
  ]);
  for (const [label, flow] of flows) assertSameBytes(FlowSchema, flow, label);
  // UTF-8 has no lone surrogates: both write U+FFFD, so this one cannot read back as itself
  assertSameBytes(
    FlowSchema,
    base({ nodeName: 'lone \ud800 surrogate', uuid: '\udc00' }),
    'lone surrogate',
    false,
  );
  // the scratch buffer still works after growing and shrinking again
  assertSameBytes(FlowSchema, flows[4]![1], 'after big');
});

test('GetFlowsResponse: every response_types case plus node_name/time tail', () => {
  const flow = loadRecordedFlows()[7]!;
  const time = create(TimestampSchema, { seconds: 5n, nanos: 6 });
  const responses = [
    create(GetFlowsResponseSchema, {}),
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'flow', value: flow },
      nodeName: 'wst-node-1',
      time,
    }),
    create(GetFlowsResponseSchema, {
      responseTypes: {
        case: 'nodeStatus',
        value: create(NodeStatusEventSchema, { stateChange: NodeState.NODE_GONE, nodeNames: ['a', 'b'] }),
      },
    }),
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'lostEvents', value: create(LostEventSchema, { numEventsLost: 12n, cpu: 0 }) },
    }),
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'lostEvents', value: create(LostEventSchema, { cpu: -3, source: 2 }) },
    }),
  ];
  for (const [i, r] of responses.entries()) {
    const bytes = compileEncoder(GetFlowsResponseSchema)(r);
    assert.equal(hex(bytes), hex(toBinary(GetFlowsResponseSchema, r)), `response ${i}`);
    assert.deepEqual(fromBinary(GetFlowsResponseSchema, bytes), r);
  }
});

test('wirescope.v1.Encryption', () => {
  for (const init of [
    {},
    { mechanism: Mechanism.WIREGUARD, peerNode: 'wst-node-3', peerPublicKey: 'k', receiverIndex: 4099 },
    { mechanism: Mechanism.NONE, leak: true, receiverIndex: 0xffffffff },
    { mechanism: Mechanism.NONE, kernelDropReason: 'NO_SOCKET', kernelDropReasonCode: 3 },
    { kernelDropReason: 'é'.repeat(70), kernelDropReasonCode: 0xffffffff },
  ]) {
    const m = create(EncryptionSchema, init);
    const bytes = compileEncoder(EncryptionSchema)(m);
    assert.equal(hex(bytes), hex(toBinary(EncryptionSchema, m)));
    assert.deepEqual(fromBinary(EncryptionSchema, bytes), m);
  }
});

test('packed repeated enums, uint32s and bools (FlowFilter), GetFlowsRequest with FieldMask', () => {
  assertSameBytes(
    FlowFilterSchema,
    create(FlowFilterSchema, {
      trafficDirection: [TrafficDirection.INGRESS, TrafficDirection.EGRESS, -1 as TrafficDirection],
      verdict: [Verdict.FORWARDED, Verdict.VERDICT_UNKNOWN],
      sourceIdentity: Array.from({ length: 100 }, (_, i) => i * 50_000),
      destinationIdentity: [0xffffffff],
      reply: [true, false, false],
      ipVersion: [IPVersion.IPv6],
      tcpFlags: [{ SYN: true }],
      sourcePod: ['a/', 'b/'],
    }),
  );
  assertSameBytes(
    GetFlowsRequestSchema,
    create(GetFlowsRequestSchema, {
      number: 100n,
      follow: true,
      whitelist: [{ sourcePod: ['x'] }, {}],
      fieldMask: { paths: ['time', 'source.pod_name'] },
      since: { seconds: 1n },
    }),
  );
});

test('well-known Struct/Value: maps, recursion, double and null oneof cases', () => {
  const value = create(ValueSchema, {
    kind: {
      case: 'structValue',
      value: {
        fields: {
          a: { kind: { case: 'numberValue', value: -0 } },
          b: { kind: { case: 'numberValue', value: 0 } },
          c: { kind: { case: 'stringValue', value: 'é' } },
          d: { kind: { case: 'nullValue', value: 0 } },
          e: {
            kind: {
              case: 'listValue',
              value: { values: [{ kind: { case: 'boolValue', value: false } }, {}] },
            },
          },
          '': { kind: { case: 'numberValue', value: Number.NaN } },
        },
      },
    },
  });
  assertSameBytes(ValueSchema, value);
  assertSameBytes(
    StructSchema,
    create(StructSchema, { fields: { x: { kind: { case: 'numberValue', value: 1.5 } } } }),
  );
});

test('descriptor.proto (proto2: explicit presence, defaults on the prototype) for every generated file', () => {
  for (const file of [file_flow_flow, file_observer_observer, file_wirescope_v1_wirescope]) {
    assertSameBytes(FileDescriptorProtoSchema, file.proto, file.name);
  }
});

// A test-only schema with every scalar type, packed and unpacked lists, proto3 optional,
// a 64-bit jstype=JS_STRING field, maps with int, int64 and bool keys, and recursion.
function testSchemas() {
  const scalarTypes = [
    Type.DOUBLE,
    Type.FLOAT,
    Type.INT64,
    Type.UINT64,
    Type.INT32,
    Type.FIXED64,
    Type.FIXED32,
    Type.BOOL,
    Type.STRING,
    Type.BYTES,
    Type.UINT32,
    Type.SFIXED32,
    Type.SFIXED64,
    Type.SINT32,
    Type.SINT64,
  ];
  const entry = (name: string, key: Type, value: Type, typeName?: string) => ({
    name,
    options: { mapEntry: true },
    field: [
      { name: 'key', number: 1, type: key, label: Label.OPTIONAL, jsonName: 'key' },
      { name: 'value', number: 2, type: value, label: Label.OPTIONAL, jsonName: 'value', typeName },
    ],
  });
  const proto3: FileDescriptorProto = create(FileDescriptorProtoSchema, {
    name: 'h7test/all.proto',
    package: 'h7test',
    syntax: 'proto3',
    dependency: ['google/protobuf/struct.proto'],
    messageType: [
      {
        name: 'All',
        field: [
          ...scalarTypes.map((type) => ({ name: `s${type}`, number: type, type, label: Label.OPTIONAL })),
          ...scalarTypes.map((type) => ({
            name: `r${type}`,
            number: 100 + type,
            type,
            label: Label.REPEATED,
          })),
          {
            name: 'unpacked',
            number: 200,
            type: Type.SINT32,
            label: Label.REPEATED,
            options: { packed: false },
          },
          {
            name: 'opt',
            number: 300,
            type: Type.INT32,
            label: Label.OPTIONAL,
            proto3Optional: true,
            oneofIndex: 0,
          },
          { name: 'pick_s', number: 301, type: Type.STRING, label: Label.OPTIONAL, oneofIndex: 1 },
          { name: 'pick_z', number: 302, type: Type.SINT64, label: Label.OPTIONAL, oneofIndex: 1 },
          { name: 'pick_all', number: 303, type: Type.MESSAGE, typeName: '.h7test.All', oneofIndex: 1 },
          {
            name: 'long_string',
            number: 304,
            type: Type.INT64,
            label: Label.OPTIONAL,
            options: { jstype: FieldOptions_JSType.JS_STRING },
          },
          { name: 'child', number: 305, type: Type.MESSAGE, typeName: '.h7test.All', label: Label.OPTIONAL },
          {
            name: 'by_int',
            number: 306,
            type: Type.MESSAGE,
            typeName: '.h7test.All.ByIntEntry',
            label: Label.REPEATED,
          },
          {
            name: 'by_long',
            number: 307,
            type: Type.MESSAGE,
            typeName: '.h7test.All.ByLongEntry',
            label: Label.REPEATED,
          },
          {
            name: 'by_bool',
            number: 308,
            type: Type.MESSAGE,
            typeName: '.h7test.All.ByBoolEntry',
            label: Label.REPEATED,
          },
        ],
        oneofDecl: [{ name: '_opt' }, { name: 'pick' }],
        nestedType: [
          entry('ByIntEntry', Type.SINT32, Type.STRING),
          entry('ByLongEntry', Type.INT64, Type.MESSAGE, '.h7test.All'),
          entry('ByBoolEntry', Type.BOOL, Type.DOUBLE),
        ],
      },
      {
        name: 'WithStruct',
        field: [{ name: 'doc', number: 1, type: Type.MESSAGE, typeName: '.google.protobuf.Struct' }],
      },
    ],
  });
  const proto2: FileDescriptorProto = create(FileDescriptorProtoSchema, {
    name: 'h7test/legacy.proto',
    package: 'h7legacy',
    syntax: 'proto2',
    messageType: [
      {
        name: 'Legacy',
        field: [
          { name: 'req', number: 1, type: Type.INT32, label: Label.REQUIRED },
          { name: 'with_default', number: 2, type: Type.STRING, label: Label.OPTIONAL, defaultValue: 'x' },
          { name: 'g', number: 3, type: Type.GROUP, typeName: '.h7legacy.Legacy.G', label: Label.OPTIONAL },
          { name: 'plain', number: 4, type: Type.INT32, label: Label.REPEATED },
          { name: 'packed', number: 5, type: Type.SINT64, label: Label.REPEATED, options: { packed: true } },
        ],
        nestedType: [
          { name: 'G', field: [{ name: 'a', number: 1, type: Type.INT32, label: Label.OPTIONAL }] },
        ],
      },
    ],
  });
  const all = createFileRegistry(proto3, (name) =>
    name === 'google/protobuf/struct.proto' ? file_google_protobuf_struct : undefined,
  );
  const legacy = createFileRegistry(proto2, () => undefined);
  return {
    All: all.getMessage('h7test.All')!,
    WithStruct: all.getMessage('h7test.WithStruct')!,
    Legacy: legacy.getMessage('h7legacy.Legacy')!,
  };
}

test('every scalar type, packed/unpacked lists, proto3 optional, JS_STRING longs, maps, recursion', () => {
  const { All } = testSchemas();
  const m = (init: Record<string, unknown>) => create(All, init as never);
  const cases: [string, MessageShape<typeof All>][] = [
    ['zeros', m({})],
    [
      'extremes',
      m({
        s1: -0,
        s2: 3.4028234663852886e38,
        s3: -9223372036854775808n,
        s4: 18446744073709551615n,
        s5: -2147483648,
        s6: 18446744073709551615n,
        s7: 0xffffffff,
        s8: true,
        s9: 'ü',
        s12: new Uint8Array(200).fill(7),
        s13: 0xffffffff,
        s15: -2147483648,
        s16: -9223372036854775808n,
        s17: -2147483648,
        s18: -9223372036854775808n,
      }),
    ],
    [
      'small values',
      m({
        s1: Number.NaN,
        s2: -Infinity,
        s3: -1n,
        s4: 1n,
        s5: -1,
        s6: 1n,
        s7: 1,
        s9: 'a',
        s12: new Uint8Array([0]),
        s13: 1,
        s15: -1,
        s16: -1n,
        s17: -1,
        s18: -1n,
      }),
    ],
    ['sint64 around 2^52', m({ s18: 0xfffffffffffffn, s3: 0x10000000000000n, s4: 0x1fffffffffffffn })],
    ['sint64 negative around 2^52', m({ s18: -0xfffffffffffffn - 1n })],
    [
      'repeated',
      m({
        r101: [0, -0, 1.5],
        r102: [0, 1.25],
        r103: [0n, -1n, 9223372036854775807n],
        r104: [0n, 18446744073709551615n],
        r105: [0, -1, 300],
        r106: [0n, 5n],
        r107: [0, 0xffffffff],
        r108: [false, true],
        r109: ['', 'é', 'x'],
        r112: [new Uint8Array(0), new Uint8Array([1, 2])],
        r113: [0, 128, 16384],
        r115: [-1, 0],
        r116: [-1n, 0n],
        r117: [-1, 1, -2147483648],
        r118: [-1n, 1n, 9223372036854775807n],
        unpacked: [-1, 0, 1],
      }),
    ],
    ['proto3 optional zero', m({ opt: 0 })],
    ['proto3 optional set', m({ opt: -7 })],
    ['oneof empty string', m({ pick: { case: 'pickS', value: '' } })],
    ['oneof zero sint64', m({ pick: { case: 'pickZ', value: 0n } })],
    ['oneof recursive message', m({ pick: { case: 'pickAll', value: { s5: 1, child: { s9: 'deep' } } } })],
    ['JS_STRING int64', m({ longString: '-12345678901234567' })],
    ['JS_STRING int64 zero', m({ longString: '0' })],
    [
      'maps',
      m({
        byInt: { '-1': 'minus one', 0: '', 7: 'seven' },
        byLong: { '-9223372036854775808': { s9: 'min' }, 5: {} },
        byBool: { true: 1.5, false: 0 },
      }),
    ],
    [
      '$unknown in nested',
      m({ child: { s5: 1, $unknown: [{ no: 999, wireType: 5, data: new Uint8Array([1, 2, 3, 4]) }] } }),
    ],
  ];
  for (const [label, message] of cases) assertSameBytes(All, message, label);
  assert.equal(compileEncoder(All).fallbacks, 0, 'typed values stay on the compiled path');
});

test('proto2: required, defaults, groups (delimited encoding), unpacked and packed lists', () => {
  const { Legacy } = testSchemas();
  const m = (init: Record<string, unknown>) => create(Legacy, init as never);
  for (const message of [
    m({ req: 0 }),
    m({ req: -5, withDefault: 'x', g: { a: 3 }, plain: [1, 2], packed: [-1n, 2n] }),
    m({ req: 1, withDefault: '', g: {} }),
  ]) {
    assertSameBytes(Legacy, message);
  }
  // a required field left unset: both refuse, with toBinary's own error
  const missing = m({});
  assert.throws(() => toBinary(Legacy, missing), /required field not set/);
  assert.throws(() => compileEncoder(Legacy)(missing), /required field not set/);
});

test('values outside the fast path are encoded by toBinary itself (same bytes or same error)', () => {
  const encode = compileEncoder(FlowSchema);
  const before = encode.fallbacks;
  const oddTypes = create(FlowSchema, { proxyPort: '443' as never, socketCookie: 5 as never });
  assert.equal(hex(encode(oddTypes)), hex(toBinary(FlowSchema, oddTypes)));
  assert.equal(encode.fallbacks, before + 1);
  const outOfRange = create(FlowSchema, { proxyPort: -1 });
  assert.throws(() => toBinary(FlowSchema, outOfRange), /invalid uint32: -1/);
  assert.throws(() => encode(outOfRange), /invalid uint32: -1/);
  // and the next well-formed message is back on the compiled path
  const ok = loadRecordedFlows()[0]!;
  assert.equal(hex(encode(ok)), hex(toBinary(FlowSchema, ok)));
  assert.equal(encode.fallbacks, before + 2);
});

test('a google.protobuf.Struct field (a plain JSON object in protobuf-es) is refused at compile time', () => {
  const { WithStruct } = testSchemas();
  assert.throws(() => compileEncoder(WithStruct), /h7test\.WithStruct\.doc .*not supported/);
});

test('results are views into shared blocks: later messages never overwrite earlier ones', () => {
  const flows = loadRecordedFlows();
  const encode = compileEncoder(FlowSchema);
  const big = create(FlowSchema, {
    nodeLabels: Array.from({ length: 20_000 }, (_, i) => `label-${i}`),
  });
  const results: [Flow, Uint8Array][] = [];
  // several 64 KiB blocks, with a message that outgrows its block in the middle
  for (let round = 0; round < 3; round++) {
    for (const flow of flows) results.push([flow, encode(flow)]);
    results.push([big, encode(big)]);
  }
  const blocks = new Set(results.map(([, bytes]) => bytes.buffer));
  assert.ok(blocks.size > 3, `used ${blocks.size} blocks`);
  for (const [flow, bytes] of results) assert.equal(hex(bytes), hex(toBinary(FlowSchema, flow)));
});

test('ownBuffer: each result owns an exact-size ArrayBuffer, as toBinary does', () => {
  const encode = compileEncoder(FlowSchema, { ownBuffer: true });
  assert.notEqual(encode, compileEncoder(FlowSchema));
  const flows = loadRecordedFlows();
  const results = flows.map((flow) => encode(flow));
  for (const [i, bytes] of results.entries()) {
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.length);
    assert.equal(hex(bytes), hex(toBinary(FlowSchema, flows[i]!)));
  }
});
