// LiveHub's batching and backpressure against a relay double that hands over a follow stream's
// handlers (synthetic flows: the bounds are the point here, not the content).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { FlowSchema, GetFlowsResponseSchema, type GetFlowsResponse } from '@wirescope/flow';
import { LiveHub, type FlowBatch } from './live-hub.js';
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

test('a browser that does not acknowledge gets one batch, then "N flows skipped", never a growing queue', async () => {
  const { relay, streams } = relayDouble();
  const hub = new LiveHub(relay, { batchMs: 10, batchMax: 100, queueMax: 300 });
  const got: FlowBatch[] = [];
  let ack: (() => void) | undefined;
  const off = hub.subscribe([], { send: (b, a) => (got.push(b), (ack = a)), error: () => {} });
  for (let i = 0; i < 1000; i++) streams[0]!.handlers.onResponse(flow(i));
  // the first 100 went out at once; 300 wait (the queue's bound); 600 were skipped
  assert.equal(got.length, 1);
  assert.equal(got[0]!.flows.length, 100);
  ack!();
  await new Promise((r) => setTimeout(r, 50));
  const flows = got.reduce((n, b) => n + b.flows.length, 0);
  assert.equal(flows, 200, 'one more full batch after the ack, the next waits for its ack');
  while (got.length < 10 && ack) {
    const a = ack;
    ack = undefined;
    a();
    await new Promise((r) => setTimeout(r, 20));
  }
  const total = got.reduce((n, b) => n + b.flows.length, 0);
  const skipped = got.reduce((n, b) => n + b.skipped, 0);
  assert.equal(total, 400);
  assert.equal(skipped, 600);
  assert.equal(total + skipped, 1000, 'every flow delivered or counted');
  off();
  assert.equal(streams[0]!.cancelled, true, 'the last subscriber gone: the relay stream ends');
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
  const hub = new LiveHub(relay, { batchMs: 5, batchMax: 100, queueMax: 100 });
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
