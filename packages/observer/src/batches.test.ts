// Wirescope.GetFlowBatches: GetFlows framed as FlowBatch messages for the relay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FlowBatchSchema,
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  Verdict,
  forEachBatchedResponse,
  loadRecordedFlows,
} from '@wirescope/flow';
import type { FlowSink } from './observer.js';
import { Observer } from './observer.js';
import { ObserverServer } from './server.js';
import { batchingSink } from './sinks.js';
import { RawServerStream } from './services.js';
import { testClient, waitFor, type GetFlowsInit } from './testing.js';

const flows = loadRecordedFlows();
let observer: Observer;
let server: ObserverServer;
let client: grpc.Client;

before(async () => {
  observer = new Observer({ nodeName: 'wst-node-1', capacity: 4095 });
  // small batches, so every request spans several of them
  server = new ObserverServer({
    observer,
    listen: ['127.0.0.1:0'],
    flowBatchLimits: { maxResponses: 7, maxBytes: 64 * 1024 },
  });
  const [address] = await server.start();
  client = testClient(address!);
  observer.pushBatch(flows.map((f) => f));
});

after(async () => {
  client.close();
  await server.stop(100);
});

interface Outcome {
  responses: Buffer[];
  messages: number;
  code: grpc.status;
  details: string;
}

function run(
  path: string,
  req: GetFlowsInit,
  onMessage?: (o: Outcome) => void,
): { done: Promise<Outcome>; call: RawServerStream } {
  const outcome: Outcome = { responses: [], messages: 0, code: grpc.status.OK, details: '' };
  let call!: RawServerStream;
  const done = new Promise<Outcome>((resolve) => {
    call = new RawServerStream(
      client,
      path,
      toBinary(GetFlowsRequestSchema, create(GetFlowsRequestSchema, req)),
      {
        onMessage: (bytes) => {
          outcome.messages++;
          if (path.endsWith('GetFlowBatches'))
            forEachBatchedResponse(bytes, (r) => outcome.responses.push(Buffer.from(r)));
          else outcome.responses.push(Buffer.from(bytes));
          onMessage?.(outcome);
        },
        onStatus: (code, details) => resolve({ ...outcome, code, details }),
      },
    );
  });
  return { done, call };
}

const getFlows = (req: GetFlowsInit) => run('/observer.Observer/GetFlows', req).done;
const getFlowBatches = (req: GetFlowsInit) => run('/wirescope.v1.Wirescope/GetFlowBatches', req).done;

test('GetFlowBatches answers every request with exactly the responses GetFlows gives, in batches', async () => {
  const requests: GetFlowsInit[] = [
    {},
    { number: 5n },
    { number: 3n, first: true },
    { whitelist: [{ verdict: [Verdict.DROPPED] }], blacklist: [{ dropReasonDesc: [195] }] },
    { since: flows[10]!.time, until: flows[19]!.time },
    { number: 20n, fieldMask: { paths: ['time', 'source.pod_name', 'IP.encrypted'] } },
  ];
  for (const req of requests) {
    const plain = await getFlows(req);
    const batched = await getFlowBatches(req);
    assert.equal(batched.code, grpc.status.OK, batched.details);
    assert.ok(plain.responses.length > 0);
    assert.deepEqual(
      batched.responses,
      plain.responses,
      JSON.stringify(req, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    );
    // framing differs: at most 7 per batch here
    assert.equal(batched.messages, Math.ceil(plain.responses.length / 7));
  }
  // each element decodes as a GetFlowsResponse through the generated schema, too
  const all = await getFlowBatches({ number: 2n });
  const decoded = all.responses.map((r) => fromBinary(GetFlowsResponseSchema, r));
  assert.deepEqual(
    decoded.map((r) => (r.responseTypes.case === 'flow' ? r.responseTypes.value.uuid : '')),
    flows.slice(-2).map((f) => f.uuid),
  );
});

test('GetFlowBatches rejects bad requests with the same INVALID_ARGUMENT as GetFlows', async () => {
  for (const req of [
    { first: true, follow: true },
    { whitelist: [{ sourceIp: ['10.1.2.0/40'] }] },
  ] as GetFlowsInit[]) {
    const plain = await getFlows(req);
    const batched = await getFlowBatches(req);
    assert.equal(plain.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(batched.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(batched.details, plain.details);
    assert.equal(batched.responses.length, 0);
  }
});

test('GetFlowBatches follow sends history then each live flow without waiting for a full batch', async () => {
  let received: Buffer[] = [];
  const { done, call } = run(
    '/wirescope.v1.Wirescope/GetFlowBatches',
    { number: 2n, follow: true, whitelist: [{ sourcePod: ['default/client-'] }] },
    (o) => {
      received = o.responses.slice(2);
    },
  );
  await waitFor(() => observer.activeStreams === 1, 5000, 'stream subscribed');
  const fresh = flows
    .filter((f) => f.source?.podName.startsWith('client-'))
    .slice(0, 3)
    .map((f) => ({ ...f, uuid: `${f.uuid}-live` }));
  const other = flows.find((f) => !f.source?.podName.startsWith('client-'))!;
  observer.push({ ...other, uuid: 'not-for-this-client' });
  // one flow alone must arrive: the batch is flushed when the producer goes idle
  observer.push(fresh[0]!);
  await waitFor(() => received.length === 1, 5000, 'first live flow');
  observer.push(fresh[1]!);
  observer.push(fresh[2]!);
  await waitFor(() => received.length === 3, 5000, 'live flows');
  const uuids = received.map((r) => {
    const t = fromBinary(GetFlowsResponseSchema, r).responseTypes;
    return t.case === 'flow' ? t.value.uuid : '';
  });
  assert.deepEqual(
    uuids,
    fresh.map((f) => f.uuid),
  );
  call.cancel();
  const ended = await done;
  assert.equal(ended.code, grpc.status.CANCELLED);
  assert.equal(ended.responses.length, 2 + 3, 'history of two, then the three live flows');
  await waitFor(() => observer.activeStreams === 0, 5000, 'stream cleanup');
});

/** A FlowSink test double whose writability the test controls. */
function fakeSink() {
  const writes: Uint8Array[] = [];
  let drains: (() => void)[] = [];
  const state = { writable: true, ended: false, cancelled: false };
  const sink: FlowSink = {
    write: (b) => {
      writes.push(b);
      return state.writable;
    },
    onDrain: (l) => drains.push(l),
    onCancel: () => {},
    end: () => {
      state.ended = true;
    },
    get cancelled() {
      return state.cancelled;
    },
  };
  const drain = () => {
    state.writable = true;
    const ls = drains;
    drains = [];
    for (const l of ls) l();
  };
  return { sink, writes, state, drain };
}

const response = (i: number) =>
  Buffer.from(toBinary(GetFlowsResponseSchema, create(GetFlowsResponseSchema, { nodeName: `n${i}` })));
const namesIn = (batch: Uint8Array) =>
  fromBinary(FlowBatchSchema, batch).responses.map((r) => fromBinary(GetFlowsResponseSchema, r).nodeName);
const turn = () => new Promise((r) => setImmediate(r));

test('batchingSink: full batches at once, the rest when the producer yields, end flushes first', async () => {
  const inner = fakeSink();
  const sink = batchingSink(inner.sink, { maxResponses: 3, maxBytes: 1 << 20 });
  for (let i = 0; i < 7; i++) assert.equal(sink.write(response(i)), true);
  assert.deepEqual(inner.writes.map(namesIn), [
    ['n0', 'n1', 'n2'],
    ['n3', 'n4', 'n5'],
  ]);
  await turn();
  assert.deepEqual(inner.writes.map(namesIn).at(-1), ['n6']);
  sink.write(response(7));
  sink.end();
  assert.deepEqual(inner.writes.map(namesIn).at(-1), ['n7']);
  assert.equal(inner.state.ended, true);
  assert.equal(sink.write(response(8)), false, 'no writes after end');

  const bySize = fakeSink();
  const small = batchingSink(bySize.sink, { maxResponses: 1000, maxBytes: response(0).length * 2 });
  small.write(response(0));
  small.write(response(1));
  assert.equal(bySize.writes.length, 1, 'flushed when the byte limit is reached');
});

test('batchingSink passes backpressure through: false until the transport drains', async () => {
  const inner = fakeSink();
  const sink = batchingSink(inner.sink, { maxResponses: 2, maxBytes: 1 << 20 });
  inner.state.writable = false;
  sink.write(response(0));
  assert.equal(sink.write(response(1)), false, 'the batch that filled the transport reports it');
  assert.equal(sink.write(response(2)), false, 'and so does every write until it drains');
  let drained = 0;
  sink.onDrain(() => {
    drained++;
    assert.equal(sink.write(response(3)), true, 'writable again inside the drain listener');
  });
  await turn();
  assert.equal(drained, 0);
  inner.drain();
  assert.equal(drained, 1);
  await turn();
  // n2 went out when the producer yielded, blocked or not: the transport takes it, the producer waits
  assert.deepEqual(inner.writes.map(namesIn), [['n0', 'n1'], ['n2'], ['n3']]);
  inner.state.cancelled = true;
  assert.equal(sink.write(response(4)), false, 'a cancelled call takes nothing');
  assert.equal(sink.cancelled, true);
});
