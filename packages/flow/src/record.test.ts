import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EndpointSchema, FlowSchema, WorkloadSchema, type Flow } from './gen/flow/flow_pb.js';
import { GetFlowsResponseSchema } from './gen/observer/observer_pb.js';
import { loadRecordedFlows } from './fixtures.js';
import { encodeFlowResponse, findField } from './wire.js';
import { packedEncryption } from './encryption.js';
import { ciliumSummary } from './summary.js';
import {
  FlowEndpoint,
  FlowExtension,
  RecordL4,
  newFlowRecord,
  recordFromFlow,
  recordSummary,
  recordTimeMicros,
  recordToFlow,
  type FlowRecord,
} from './record.js';
import { encodeRecordResponse } from './record-writer.js';

/** What the writer must produce: the response around toBinary of the record's message. */
function expected(r: FlowRecord): Uint8Array {
  return encodeFlowResponse(toBinary(FlowSchema, recordToFlow(r)), r.nodeName, recordTimeMicros(r));
}

/** Flow fields a record carries; every other field of a recorded flow is dropped by recordFromFlow. */
const recordFields = new Set([
  'time',
  'uuid',
  'verdict',
  'dropReason',
  'IP',
  'l4',
  'source',
  'destination',
  'Type',
  'nodeName',
  'eventType',
  'trafficDirection',
  'policyMatchType',
  'traceObservationPoint',
  'traceReason',
  'dropReasonDesc',
  'isReply',
  'interface',
  'Summary',
  'extensions',
]);

function onlyRecordFields(flow: Flow): Flow {
  const out = create(FlowSchema) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(flow)) if (recordFields.has(key)) out[key] = value;
  return out as unknown as Flow;
}

test('record writer: every recorded flow, byte-identical to toBinary of its message', () => {
  const flows = loadRecordedFlows();
  assert.ok(flows.length > 100);
  for (const flow of flows) {
    const r = recordFromFlow(flow);
    r.summary = recordSummary(r);
    const bytes = encodeRecordResponse(r);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(expected(r)), flow.uuid);
    const response = fromBinary(GetFlowsResponseSchema, bytes);
    assert.equal(response.nodeName, flow.nodeName);
    assert.equal(response.responseTypes.case, 'flow');
  }
});

test('recordFromFlow keeps every field a record has (and recordSummary is ciliumSummary)', () => {
  for (const flow of loadRecordedFlows()) {
    const r = recordFromFlow(flow);
    const want = onlyRecordFields(flow);
    assert.deepEqual(
      Buffer.from(toBinary(FlowSchema, recordToFlow(r))),
      Buffer.from(toBinary(FlowSchema, want)),
      flow.uuid,
    );
    assert.equal(recordSummary(r), ciliumSummary(want), flow.uuid);
  }
});

function endpoint(labels: number, ns = 'shop'): FlowEndpoint {
  return new FlowEndpoint(
    create(EndpointSchema, {
      identity: 1001,
      namespace: ns,
      podName: 'frontend-6d8f7c9b5-x2k4p',
      labels: Array.from({ length: labels }, (_, i) => `k8s:label-${i}=value-${i}`),
      workloads: [create(WorkloadSchema, { name: 'frontend', kind: 'Pod' })],
    }),
  );
}

/** Records through every branch of the writer: each case alone, then all at once. */
function edgeRecords(): FlowRecord[] {
  const base = () => {
    const r = newFlowRecord();
    r.timeSeconds = 1_764_650_000;
    r.timeNanos = 123_456_789;
    return r;
  };
  const out: FlowRecord[] = [];
  const add = (f: (r: FlowRecord) => void) => {
    const r = base();
    f(r);
    out.push(r);
  };
  add(() => {});
  add((r) => ((r.timeSeconds = 0), (r.timeNanos = 0)));
  add((r) => (r.timeNanos = 999)); // the response's time loses the sub-µs part
  add((r) => (r.timeSeconds = 2 ** 33)); // five varint bytes (2242: TimeMicros is exact until 2255)
  add(
    (r) => (
      (r.hasIP = true),
      (r.ipVersion = 2),
      (r.ipSource = 'fd00::1'),
      (r.ipDestination = 'fd00:0:0:0:0:0:0:2')
    ),
  );
  add((r) => (r.hasIP = true));
  add((r) => (r.l4 = RecordL4.EMPTY));
  add((r) => ((r.l4 = RecordL4.TCP), (r.sourcePort = 65535), (r.destinationPort = 80)));
  add((r) => ((r.l4 = RecordL4.TCP), (r.tcpFlags = 0)));
  add((r) => ((r.l4 = RecordL4.TCP), (r.tcpFlags = 0x1ff), (r.sourcePort = 1)));
  add((r) => ((r.l4 = RecordL4.UDP), (r.sourcePort = 53000), (r.destinationPort = 53)));
  add((r) => ((r.l4 = RecordL4.SCTP), (r.destinationPort = 9)));
  add((r) => ((r.l4 = RecordL4.ICMPv4), (r.icmpType = 3), (r.icmpCode = 3)));
  add((r) => ((r.l4 = RecordL4.ICMPv6), (r.icmpType = 128)));
  add((r) => ((r.source = endpoint(3)), (r.destination = endpoint(0, ''))));
  add((r) => (r.source = endpoint(600))); // a flow past 16 KiB: a three-byte length
  add((r) => ((r.eventType = 0), (r.eventSubType = 0)));
  add((r) => ((r.eventType = 1), (r.eventSubType = 255)));
  add((r) => (r.isReply = 0));
  add((r) => (r.isReply = 1));
  add((r) => (r.interfaceIndex = 0));
  add((r) => ((r.interfaceIndex = 2 ** 31), (r.interfaceName = 'x'.repeat(300))));
  add((r) => ((r.verdict = -1), (r.trafficDirection = -5), (r.type = 3))); // negative enums: ten bytes
  add((r) => ((r.dropReason = 255), (r.dropReasonDesc = 195), (r.policyMatchType = 4)));
  add((r) => ((r.traceObservationPoint = 101), (r.traceReason = 2)));
  add((r) => (r.summary = 'TCP Flags: SYN; kernel drop: NETFILTER_DROP'));
  add((r) => (r.summary = 'non-ASCII: ünïcödé ✓ 𝄞'.repeat(10)));
  add((r) => (r.nodeName = 'wst-node-1'));
  add((r) => (r.nodeName = 'nœud-é'));
  add((r) => (r.uuid = '9e3779b1-5c1e-4a0b-9d3f-000000000001'));
  add(
    (r) =>
      (r.extensions = new FlowExtension(
        packedEncryption({ mechanism: 1, peerNode: 'node2', receiverIndex: 77 }),
      )),
  );
  add((r) => {
    for (const other of out) Object.assign(r, { ...other, summary: r.summary || other.summary });
  });
  return out;
}

test('record writer: every branch, byte-identical to toBinary of the message', () => {
  for (const r of edgeRecords()) {
    assert.deepEqual(Buffer.from(encodeRecordResponse(r)), Buffer.from(expected(r)), JSON.stringify(r));
    const flow = fromBinary(FlowSchema, toBinary(FlowSchema, recordToFlow(r)));
    assert.deepEqual(
      Buffer.from(toBinary(FlowSchema, recordToFlow(recordFromFlow(flow)))),
      Buffer.from(toBinary(FlowSchema, flow)),
    );
  }
});

test('record writer: results stay intact as later records fill and replace its blocks', () => {
  const records = edgeRecords();
  const written: Uint8Array[] = [];
  for (let i = 0; i < 20_000; i++) written.push(encodeRecordResponse(records[i % records.length]!));
  for (let i = 0; i < written.length; i += 97) {
    assert.deepEqual(Buffer.from(written[i]!), Buffer.from(expected(records[i % records.length]!)));
    assert.ok(findField(written[i]!, 1));
  }
});
