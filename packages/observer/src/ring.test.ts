import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowRing, isValidCapacity } from './ring.js';
import { toBinary } from '@bufbuild/protobuf';
import { FlowSchema, loadRecordedFlows, recordFromFlow } from '@wirescope/flow';

test('capacity must be 2^n - 1', () => {
  for (const ok of [1, 3, 4095, 65535, 131071]) assert.ok(isValidCapacity(ok), String(ok));
  for (const bad of [0, 2, 4096, 1000, -1, 1.5]) assert.ok(!isValidCapacity(bad), String(bad));
  assert.throws(() => new FlowRing(4096), /4096 is not a valid flow ring capacity; accepted: 2\^n - 1/);
});

test('the ring keeps the newest capacity entries and counts every one seen', () => {
  const flows = loadRecordedFlows();
  const ring = new FlowRing(7);
  flows.slice(0, 20).forEach((f, i) => ring.push(i, 'n', f, undefined));
  assert.equal(ring.seen, 20);
  assert.equal(ring.size, 7);
  assert.equal(ring.oldestSeq, 13);
  assert.deepEqual(
    ring.snapshot().map((e) => e.time),
    [13, 14, 15, 16, 17, 18, 19],
  );
  assert.equal(ring.get(12), undefined);
  assert.equal(ring.get(19)?.flow.uuid, flows[19]!.uuid);
});

test('a 65535-entry ring wraps correctly', () => {
  const ring = new FlowRing(65535);
  for (let i = 0; i < 70000; i++) ring.push(i, 'n', undefined, new Uint8Array([0x5a, 0]));
  assert.equal(ring.size, 65535);
  const snap = ring.snapshot();
  assert.equal(snap[0]!.time, 70000 - 65535);
  assert.equal(snap.at(-1)!.time, 69999);
});

test('last(n) gives the newest n entries oldest first, at most what is held', () => {
  const ring = new FlowRing(7);
  for (let i = 0; i < 20; i++) ring.push(1000 + i, 'n', undefined, new Uint8Array([i]));
  assert.deepEqual(
    ring.last(3).map((e) => e.seq),
    [17, 18, 19],
  );
  assert.deepEqual(
    ring.last(100).map((e) => e.seq),
    [13, 14, 15, 16, 17, 18, 19],
  );
  assert.deepEqual(ring.last(0), []);
});

test('packed slots: a settled flow kept as its response bytes reads back as the entry it was', () => {
  const flows = loadRecordedFlows();
  const ring = new FlowRing(63);
  const pushed: { seq: number; time: number; response: Buffer; uuid: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const record = recordFromFlow(flows[i % flows.length]!);
    record.nodeName = 'n';
    const entry = ring.pushRecord(record);
    assert.equal(entry.flow.uuid, flows[i % flows.length]!.uuid); // built from the record
    entry.settle();
    ring.pack(entry);
    pushed.push({
      seq: entry.seq,
      time: entry.time,
      response: Buffer.from(entry.response),
      uuid: entry.flow.uuid,
    });
  }
  // a message entry without response bytes is not packed; it stays the entry it was
  const kept = ring.push(5, 'n', flows[0]!, undefined);
  ring.pack(kept);
  assert.equal(ring.get(kept.seq), kept);
  const held = pushed.slice(-62);
  assert.deepEqual(
    ring
      .snapshot()
      .slice(0, -1)
      .map((e) => [e.seq, e.time, e.nodeName, Buffer.from(e.response), e.flow.uuid]),
    held.map((p) => [p.seq, p.time, 'n', p.response, p.uuid]),
  );
  assert.deepEqual(
    Buffer.from(ring.get(held[10]!.seq)!.bytes),
    Buffer.from(toBinary(FlowSchema, ring.get(held[10]!.seq)!.flow)),
  );
  assert.equal(ring.get(pushed[0]!.seq), undefined);
  assert.equal(ring.isNoted(held[0]!.seq), false);
  ring.markNoted(held[0]!.seq);
  assert.equal(ring.isNoted(held[0]!.seq), true);
  assert.equal(ring.get(held[0]!.seq)!.namespacesNoted, true);
});
