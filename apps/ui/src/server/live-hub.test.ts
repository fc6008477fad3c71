// LiveHub's batching and backpressure against a relay double that hands over a follow stream's
// handlers (synthetic flows: the bounds are the point here, not the content).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { FlowSchema, GetFlowsResponseSchema, type GetFlowsResponse } from '@wirescope/flow';
import { LiveHub, batchRows, type FlowBatch } from './live-hub.js';
import type { FollowHandlers, RelayApi } from './relay-client.js';

function relayDouble() {
  const streams: { handlers: FollowHandlers; cancelled: boolean }[] = [];
  const relay = {
    address: 'double',
    follow: (_req: unknown, handlers: FollowHandlers) => {
      const s = { handlers, cancelled: false };
      streams.push(s);
      return { cancel: () => (s.cancelled = true) };
    },
  } as unknown as RelayApi;
  return { relay, streams };
}

const flow = (i: number): GetFlowsResponse =>
  create(GetFlowsResponseSchema, {
    responseTypes: { case: 'flow', value: create(FlowSchema, { nodeName: `n${i}` }) },
  });

test('a browser that does not acknowledge gets its window of batches, then "N flows skipped", never a growing queue', async () => {
  const { relay, streams } = relayDouble();
  const hub = new LiveHub(relay, { batchMs: 10, batchMax: 100, queueMax: 300, window: 2 });
  const got: FlowBatch[] = [];
  const acks: (() => void)[] = [];
  const off = hub.subscribe([], { send: (b, a) => (got.push(b), acks.push(a)), error: () => {} });
  for (let i = 0; i < 1000; i++) streams[0]!.handlers.onResponse(flow(i));
  // two batches of 100 went out at once (the credit); 300 wait (the queue's bound); 500 were skipped
  assert.equal(got.length, 2);
  assert.deepEqual(
    got.map((b) => b.count),
    [100, 100],
  );
  assert.deepEqual(
    batchRows(got[1]!).map((r) => r.node_name),
    Array.from({ length: 100 }, (_, i) => `n${100 + i}`),
    'the rows in order, as JSON',
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.length, 2, 'nothing more without an acknowledgement, however long');
  acks.shift()!();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.length, 3, 'one acknowledgement, one more batch');
  while (acks.length) {
    acks.shift()!();
    await new Promise((r) => setTimeout(r, 20));
  }
  const total = got.reduce((n, b) => n + b.count, 0);
  const skipped = got.reduce((n, b) => n + b.skipped, 0);
  assert.equal(total, 500);
  assert.equal(skipped, 500);
  assert.equal(total + skipped, 1000, 'every flow delivered or counted');
  off();
  assert.equal(streams[0]!.cancelled, true, 'the last subscriber gone: the relay stream ends');
});

test('a browser that keeps acknowledging takes every flow, several batches in flight', async () => {
  const { relay, streams } = relayDouble();
  const hub = new LiveHub(relay, { batchMs: 5, batchMax: 50, queueMax: 100, window: 4 });
  const got: FlowBatch[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  hub.subscribe([], {
    send: (b, a) => {
      got.push(b);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      // acknowledged a little later, as a browser over a socket does
      setTimeout(() => (inFlight--, a()), 2);
    },
    error: () => {},
  });
  for (let i = 0; i < 2000; i++) {
    streams[0]!.handlers.onResponse(flow(i));
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(
    got.reduce((n, b) => n + b.count, 0),
    2000,
  );
  assert.equal(
    got.reduce((n, b) => n + b.skipped, 0),
    0,
  );
  assert.ok(maxInFlight > 1 && maxInFlight <= 4, `in flight at most the window: ${maxInFlight}`);
  hub.close();
});

test('sockets with the same filter share one relay stream; a relay error reaches each', () => {
  const { relay, streams } = relayDouble();
  const hub = new LiveHub(relay);
  const errors: string[] = [];
  const target = (name: string) => ({
    send: () => {},
    error: (e: Error) => errors.push(`${name}: ${e.message}`),
  });
  const offA = hub.subscribe(['pod=shop/api', 'encrypted=false'], target('a'));
  hub.subscribe(['pod=shop/api', 'encrypted=false'], target('b'));
  hub.subscribe(['pod=shop/db'], target('c'));
  assert.equal(streams.length, 2);
  assert.equal(hub.streamCount, 2);
  offA();
  assert.equal(streams[0]!.cancelled, false, 'b still uses it');
  streams[0]!.handlers.onEnd(Object.assign(new Error('relay gone'), { code: 'RELAY_UNAVAILABLE' }) as never);
  assert.deepEqual(errors, ['b: relay gone']);
  assert.equal(hub.streamCount, 1);
  hub.close();
});

test('lost events and node status ride along in the next batch', async () => {
  const { relay, streams } = relayDouble();
  const hub = new LiveHub(relay, { batchMs: 5, batchMax: 100, queueMax: 100, window: 4 });
  const got: FlowBatch[] = [];
  hub.subscribe([], { send: (b, a) => (got.push(b), a()), error: () => {} });
  streams[0]!.handlers.onResponse(
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'lostEvents', value: { numEventsLost: 7n, source: 2 } },
    }),
  );
  streams[0]!.handlers.onResponse(
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'nodeStatus', value: { stateChange: 2, nodeNames: ['node2'], message: 'gone' } },
    }),
  );
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.lost, 7);
  assert.deepEqual(got[0]!.nodeStatus, [{ state: 'NODE_UNAVAILABLE', nodes: ['node2'], message: 'gone' }]);
  hub.close();
});
