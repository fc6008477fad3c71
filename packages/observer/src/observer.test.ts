import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FlowSchema,
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  LostEventSource,
  NodeState,
  loadRecordedFlows,
  responseKind,
  type Flow,
} from '@wirescope/flow';
import { Observer, type FlowSink } from './observer.js';

/** A FlowSink test double whose consumer takes `room` writes, then blocks until drain(). */
function blockingSink(room: number) {
  const written: Uint8Array[] = [];
  let left = room;
  let drainListener: (() => void) | undefined;
  const sink: FlowSink = {
    write: (bytes) => {
      written.push(bytes);
      return --left > 0;
    },
    onDrain: (l) => (drainListener = l),
    onCancel: () => {},
    end: () => {},
    cancelled: false,
  };
  return {
    sink,
    written,
    /** The consumer takes `more` writes again. */
    drain(more: number) {
      left = more;
      const l = drainListener;
      drainListener = undefined;
      l?.();
    },
  };
}

test('flows that overflow a blocked client are reported as lost_events after its queue, in order', async () => {
  const observer = new Observer({ nodeName: 'wst-node-1', clientQueue: 4 });
  const client = blockingSink(2);
  await observer.getFlows(create(GetFlowsRequestSchema, { follow: true }), client.sink);
  const encoded = loadRecordedFlows()
    .slice(0, 10)
    .map((f) => toBinary(FlowSchema, f));
  // 2 written (the second fills the transport), 4 queued, 4 lost
  for (const bytes of encoded) observer.pushEncoded(bytes);
  assert.equal(client.written.length, 2);
  assert.equal(observer.backlog, 5, 'four queued plus one while the transport is full');
  assert.equal(observer.lostEvents, 4);
  client.drain(100);
  const kinds = client.written.map((b) => responseKind(b));
  assert.deepEqual(kinds, [1, 1, 1, 1, 1, 1, 3], 'six flows, then the lost_events for the other four');
  const last = fromBinary(GetFlowsResponseSchema, client.written.at(-1)!).responseTypes;
  assert.equal(last.case, 'lostEvents');
  if (last.case === 'lostEvents') {
    assert.equal(last.value.numEventsLost, 4n);
    assert.equal(last.value.source, LostEventSource.OBSERVER_EVENTS_QUEUE);
  }
  assert.equal(observer.backlog, 0);
});

test('the deprecated experimental.field_mask (what hubble observe --experimental-field-mask sends) masks flows', async () => {
  const observer = new Observer({ nodeName: 'wst-node-1' });
  const flow = loadRecordedFlows().find((f) => f.source?.podName && f.destination?.podName)!;
  observer.push(create(FlowSchema, flow));
  const read = async (init: Parameters<typeof create<typeof GetFlowsRequestSchema>>[1]) => {
    const client = blockingSink(100);
    await observer.getFlows(create(GetFlowsRequestSchema, { number: 1n, ...init }), client.sink);
    assert.equal(client.written.length, 1);
    const r = fromBinary(GetFlowsResponseSchema, client.written[0]!).responseTypes;
    assert.equal(r.case, 'flow');
    return r.value as Flow;
  };
  const whole = await read({});
  assert.equal(whole.source?.podName, flow.source!.podName);
  const masked = await read({ experimental: { fieldMask: { paths: ['verdict', 'destination.pod_name'] } } });
  assert.equal(masked.verdict, flow.verdict);
  assert.equal(masked.destination?.podName, flow.destination!.podName);
  assert.equal(masked.source, undefined, 'source is not in the mask');
  // field_mask (10) wins when both are set
  const both = await read({
    fieldMask: { paths: ['source.pod_name'] },
    experimental: { fieldMask: { paths: ['verdict'] } },
  });
  assert.equal(both.source?.podName, flow.source!.podName);
  assert.equal(both.destination, undefined);
});

test('a node event reaches every follower in order with its flows, whatever its filters', async () => {
  const observer = new Observer({ nodeName: 'wst-node-3' });
  const open = blockingSink(100);
  const filtered = blockingSink(100);
  await observer.getFlows(create(GetFlowsRequestSchema, { follow: true }), open.sink);
  await observer.getFlows(
    create(GetFlowsRequestSchema, { follow: true, whitelist: [{ sourcePod: ['nowhere/'] }] }),
    filtered.sink,
  );
  const [flow] = loadRecordedFlows();
  observer.pushEncoded(toBinary(FlowSchema, flow!));
  observer.notifyNodeStatus(NodeState.NODE_ERROR, 'encryption device down: wireguard-go exited');
  assert.deepEqual(
    open.written.map((b) => responseKind(b)),
    [1, 2],
    'the flow, then the node status',
  );
  const events = filtered.written.map((b) => fromBinary(GetFlowsResponseSchema, b).responseTypes);
  assert.equal(events.length, 1, 'no flow passed its filter, the event did');
  const event = events[0]!;
  assert.equal(event.case, 'nodeStatus');
  if (event.case === 'nodeStatus') {
    assert.equal(event.value.stateChange, NodeState.NODE_ERROR);
    assert.deepEqual(event.value.nodeNames, ['wst-node-3']);
    assert.match(event.value.message, /wireguard-go exited/);
  }
});

test('hooks see every flow, handshake and lost notice in order; removal stops them; a throwing hook is dropped alone', async () => {
  const observer = new Observer({ nodeName: 'wst-node-4', clientQueue: 1 });
  const seen: string[] = [];
  const remove = observer.addHook({
    name: 'recorder',
    onFlow: (entry) => seen.push(`flow ${entry.seq} ${entry.flow.verdict}`),
    onHandshake: (h) => seen.push(`handshake ${h.nodeName} ${h.senderIndex}`),
    onLost: (l) => seen.push(`lost ${LostEventSource[l.source]} ${l.count} cpu ${l.cpu}`),
  });
  const original = process.stderr.write;
  const stderr: string[] = [];
  process.stderr.write = ((chunk: string) => stderr.push(chunk) > 0) as typeof process.stderr.write;
  try {
    observer.addHook({
      name: 'broken',
      onFlow: () => {
        throw new Error('boom');
      },
    });
    const [a, b] = loadRecordedFlows();
    observer.push(create(FlowSchema, a!));
    observer.pushHandshake({ senderIndex: 7 });
    observer.reportLost(LostEventSource.PERF_EVENT_RING_BUFFER, 3, 1);
    observer.push(create(FlowSchema, b!));
  } finally {
    process.stderr.write = original;
  }
  assert.deepEqual(
    stderr,
    ['observer: hook broken threw and was removed: boom\n'],
    'said once, then removed',
  );
  const [a, b] = loadRecordedFlows();
  assert.deepEqual(seen, [
    `flow 0 ${a!.verdict}`,
    'handshake wst-node-4 7',
    'lost PERF_EVENT_RING_BUFFER 3 cpu 1',
    `flow 1 ${b!.verdict}`,
  ]);
  assert.equal(observer.handshakes.recent().length, 1);
  assert.equal(observer.lostCounts().get(LostEventSource.PERF_EVENT_RING_BUFFER), 3);
  // a follower falling behind is a lost notice too (OBSERVER_EVENTS_QUEUE, per flow missed)
  const client = blockingSink(1);
  await observer.getFlows(create(GetFlowsRequestSchema, { follow: true }), client.sink);
  seen.length = 0;
  for (const f of loadRecordedFlows().slice(0, 3)) observer.push(create(FlowSchema, f));
  assert.deepEqual(
    seen.filter((s) => s.startsWith('lost')),
    ['lost OBSERVER_EVENTS_QUEUE 1 cpu -1'],
    'one written, one queued, one lost',
  );
  remove();
  seen.length = 0;
  observer.push(create(FlowSchema, a!));
  assert.deepEqual(seen, []);
});

test('kernel ring losses reach followers as lost_events with their source and CPU', async () => {
  const observer = new Observer({ nodeName: 'wst-node-5' });
  const client = blockingSink(100);
  await observer.getFlows(create(GetFlowsRequestSchema, { follow: true }), client.sink);
  observer.reportLost(LostEventSource.PERF_EVENT_RING_BUFFER, 12, 0);
  observer.reportLost(LostEventSource.PERF_EVENT_RING_BUFFER, 0);
  const events = client.written.map((b) => fromBinary(GetFlowsResponseSchema, b).responseTypes);
  assert.equal(events.length, 1, 'nothing for a zero count');
  const lost = events[0]!;
  assert.equal(lost.case, 'lostEvents');
  if (lost.case === 'lostEvents') {
    assert.equal(lost.value.source, LostEventSource.PERF_EVENT_RING_BUFFER);
    assert.equal(lost.value.numEventsLost, 12n);
    assert.equal(lost.value.cpu, 0);
  }
});
