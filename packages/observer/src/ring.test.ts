import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowRing, isValidCapacity } from './ring.js';
import { loadRecordedFlows } from '@wirescope/flow';

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
