import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FlowSchema,
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  LostEventSource,
  loadRecordedFlows,
  responseKind,
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
