import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FlowSchema } from './gen/flow/flow_pb.js';
import { GetFlowsResponseSchema } from './gen/observer/observer_pb.js';
import { FlowBatchSchema } from './gen/wirescope/v1/wirescope_pb.js';
import {
  encodeFlowBatch,
  encodeFlowResponse,
  encodeFlowWithoutTime,
  forEachBatchedResponse,
  flowTimeMicros,
  responseKind,
  responseTimeMicros,
  stampFlowBytes,
} from './wire.js';
import { loadRecordedFlows } from './fixtures.js';

const flows = loadRecordedFlows();
const sameFlow = (a: unknown, b: unknown) =>
  assert.ok(
    Buffer.from(toBinary(FlowSchema, a as never)).equals(Buffer.from(toBinary(FlowSchema, b as never))),
    'flows differ',
  );

test('encodeFlowResponse builds a GetFlowsResponse that protobuf decoders read back', () => {
  const flow = flows[3]!;
  const bytes = toBinary(FlowSchema, flow);
  const t = flowTimeMicros(bytes);
  assert.equal(t, Number(flow.time!.seconds) * 1e6 + flow.time!.nanos / 1000);
  const resp = fromBinary(GetFlowsResponseSchema, encodeFlowResponse(bytes, 'wst-node-1', t));
  assert.equal(resp.nodeName, 'wst-node-1');
  assert.deepEqual(resp.time, flow.time);
  assert.equal(resp.responseTypes.case, 'flow');
  sameFlow(resp.responseTypes.value, flow);
  assert.equal(responseTimeMicros(encodeFlowResponse(bytes, 'n', t)), t);
  assert.equal(responseKind(encodeFlowResponse(bytes, 'n', t)), 1);
});

test('stampFlowBytes gives recorded bytes a new time and keeps every other field', () => {
  const flow = flows[7]!;
  const stripped = encodeFlowWithoutTime(flow);
  const when = 1_800_000_000_123_456;
  const restamped = fromBinary(FlowSchema, stampFlowBytes(stripped, when));
  assert.equal(restamped.time!.seconds, 1_800_000_000n);
  assert.equal(restamped.time!.nanos, 123_456_000);
  sameFlow(
    create(FlowSchema, { ...restamped, time: undefined }),
    create(FlowSchema, { ...flow, time: undefined }),
  );
});

test('responseKind and responseTimeMicros on status and lost-event responses', () => {
  const status = toBinary(
    GetFlowsResponseSchema,
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'nodeStatus', value: { nodeNames: ['a'] } },
      time: { seconds: 5n, nanos: 7000 },
    }),
  );
  assert.equal(responseKind(status), 2);
  assert.equal(responseTimeMicros(status), 5_000_007);
  const lost = toBinary(
    GetFlowsResponseSchema,
    create(GetFlowsResponseSchema, { responseTypes: { case: 'lostEvents', value: { numEventsLost: 3n } } }),
  );
  assert.equal(responseKind(lost), 3);
  assert.equal(responseTimeMicros(lost), 0);
});

test('encodeStampedFlowResponse equals stamping then wrapping, in one pass', async () => {
  const { encodeStampedFlowResponse } = await import('./wire.js');
  const stripped = encodeFlowWithoutTime(flows[11]!);
  const t = 1_800_000_000_654_321;
  const oneStep = Buffer.from(encodeStampedFlowResponse(stripped, 'wst-node-2', t));
  const twoSteps = Buffer.from(encodeFlowResponse(stampFlowBytes(stripped, t), 'wst-node-2', t));
  assert.ok(oneStep.equals(twoSteps));
});

test('encodeFlowBatch is a FlowBatch protobuf decoders read, and forEachBatchedResponse gives the same bytes back', () => {
  const responses = flows
    .slice(0, 50)
    .map((f, i) => encodeFlowResponse(toBinary(FlowSchema, f), `node-${i}`, 1_700_000_000_000_000 + i));
  // one big response: a length that needs a multi-byte varint
  responses.push(encodeFlowResponse(new Uint8Array(70_000).fill(0), 'big', 1));
  const batch = encodeFlowBatch(responses);
  const decoded = fromBinary(FlowBatchSchema, batch);
  assert.equal(decoded.responses.length, responses.length);
  decoded.responses.forEach((r, i) => assert.ok(Buffer.from(r).equals(Buffer.from(responses[i]!))));
  const seen: Buffer[] = [];
  forEachBatchedResponse(batch, (r) => seen.push(r));
  assert.equal(seen.length, responses.length);
  seen.forEach((r, i) => assert.ok(r.equals(Buffer.from(responses[i]!))));
  assert.equal(responseTimeMicros(seen[3]!), 1_700_000_000_000_003);
  // the protobuf runtime's own encoding reads the same
  const viaRuntime: Buffer[] = [];
  forEachBatchedResponse(
    Buffer.from(toBinary(FlowBatchSchema, create(FlowBatchSchema, { responses }))),
    (r) => viaRuntime.push(r),
  );
  assert.equal(viaRuntime.length, responses.length);
  assert.equal(encodeFlowBatch([]).length, 0);
  assert.throws(() => forEachBatchedResponse(batch.subarray(0, batch.length - 1), () => {}), /truncated/);
});
