// FastJson gives protobuf-es's own JSON (proto field names) for every recorded flow, flows with
// policy names and the Encryption extension, and whole responses with node status and lost events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clone, create, toBinary, toJson } from '@bufbuild/protobuf';
import {
  FlowSchema,
  GetFlowsResponseSchema,
  loadRecordedFlows,
  registry,
  setEncryption,
  Mechanism,
} from '@wirescope/flow';
import { FastJson } from './fast-json.js';
import { rowFields } from './flow-json.js';
import { WireJson } from './wire-json.js';

const fast = new FastJson(registry);
const reference = (schema: Parameters<typeof toJson>[0], m: unknown) =>
  toJson(schema, m as never, { useProtoFieldName: true, registry });

test('every recorded flow: the same JSON as toJson', () => {
  const flows = loadRecordedFlows();
  assert.ok(flows.length > 100);
  for (const f of flows) assert.deepEqual(fast.write(FlowSchema, f), reference(FlowSchema, f));
});

test('policy names, wrappers, nanosecond times, kernel drops; an unknown Any stays packed', () => {
  const f = clone(FlowSchema, loadRecordedFlows()[0]!);
  f.egressAllowedBy = [
    {
      $typeName: 'flow.Policy',
      name: 'allow-api',
      namespace: 'shop',
      labels: ['a=b'],
      revision: 7n,
      kind: 'CiliumNetworkPolicy',
    },
  ];
  f.isReply = false;
  f.time = { $typeName: 'google.protobuf.Timestamp', seconds: 1_800_000_000n, nanos: 123_456_789 };
  setEncryption(f, {
    mechanism: Mechanism.WIREGUARD,
    peerNode: 'node2',
    receiverIndex: 42,
    kernelDropReason: 'NO_SOCKET',
  });
  assert.deepEqual(fast.write(FlowSchema, f), reference(FlowSchema, f));
  f.time = { $typeName: 'google.protobuf.Timestamp', seconds: 1_800_000_000n, nanos: 120_000_000 };
  f.extensions = undefined;
  assert.deepEqual(fast.write(FlowSchema, f), reference(FlowSchema, f));
  // toJson refuses an Any it cannot resolve; the flow still shows, its extension packed
  f.extensions = {
    $typeName: 'google.protobuf.Any',
    typeUrl: 'type.googleapis.com/example.v9.Unknown',
    value: new Uint8Array([8, 5]),
  };
  assert.deepEqual((fast.write(FlowSchema, f) as { extensions: unknown }).extensions, {
    '@type': 'type.googleapis.com/example.v9.Unknown',
    value: 'CAU=',
  });
});

test('responses: node status and lost events', () => {
  for (const r of [
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'nodeStatus', value: { stateChange: 2, nodeNames: ['node3'], message: 'gone' } },
      nodeName: 'relay',
    }),
    create(GetFlowsResponseSchema, {
      responseTypes: {
        case: 'lostEvents',
        value: { numEventsLost: 9n, source: 2, cpu: 1 },
      },
    }),
  ])
    assert.deepEqual(fast.write(GetFlowsResponseSchema, r), reference(GetFlowsResponseSchema, r));
});

test('a projection writes exactly the chosen fields of the full JSON (the live rows)', () => {
  const row = fast.projection(FlowSchema, rowFields);
  let dropped = 0;
  for (const f of loadRecordedFlows()) {
    const full = reference(FlowSchema, f) as Record<string, unknown>;
    const expected = Object.fromEntries(
      Object.entries(full).filter(([k]) => (rowFields as readonly string[]).includes(k)),
    );
    assert.deepEqual(row(f), expected);
    if (Object.keys(full).length > Object.keys(expected).length) dropped++;
  }
  assert.ok(dropped > 0, 'the rows leave fields out of some recorded flows');
  assert.throws(() => fast.projection(FlowSchema, ['no_such_field']), /no field no_such_field/);
});

test('WireJson, from the bytes: the same JSON as FastJson from the message, whole and as rows', () => {
  const wire = new WireJson(registry);
  const rows = wire.projection(FlowSchema, rowFields);
  const fastRows = fast.projection(FlowSchema, rowFields);
  const flows = loadRecordedFlows();
  const policy = clone(FlowSchema, flows[0]!);
  policy.egressAllowedBy = [
    { $typeName: 'flow.Policy', name: 'p', namespace: 'n', labels: ['a=b', 'c=d'], revision: 7n, kind: 'K' },
  ];
  policy.isReply = false;
  policy.time = { $typeName: 'google.protobuf.Timestamp', seconds: 1_800_000_000n, nanos: 123_456_789 };
  for (const f of [...flows, policy]) {
    const bytes = toBinary(FlowSchema, f);
    assert.deepEqual(wire.read(FlowSchema, bytes), fast.write(FlowSchema, f));
    assert.deepEqual(rows(bytes), fastRows(f));
  }
  // whole responses (node status, lost events) through the same path
  const status = create(GetFlowsResponseSchema, {
    nodeName: 'n1',
    responseTypes: { case: 'nodeStatus', value: { stateChange: 2, nodeNames: ['a', 'b'], message: 'gone' } },
  });
  assert.deepEqual(
    wire.read(GetFlowsResponseSchema, toBinary(GetFlowsResponseSchema, status)),
    reference(GetFlowsResponseSchema, status),
  );
});
