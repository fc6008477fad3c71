// Map operations with Buffers: lookup/update/delete/iterate, per-CPU values, pin and open pinned.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { BpfMap, BpfObject, ensureBpfFs, unmountIfMountedNow } from './index.js';
import { exitUnlessRoot } from './netns-fixture.js';
import { bpfObject } from '@wirescope/bpf';

exitUnlessRoot();

const TESTPROG = bpfObject('testprog');
const PIN = `/sys/fs/bpf/wst1-${process.pid}-kv`;
// a new machine has no bpffs: mount it as the agent does, and leave the machine as it was
const bpffs = ensureBpfFs();
const obj = BpfObject.load(TESTPROG);
after(() => {
  BpfMap.unpin(PIN);
  obj.close();
  unmountIfMountedNow(bpffs);
});

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};

test('hash map: update, lookup, update modes, delete, iterate', () => {
  const kv = obj.map('test_kv');
  assert.deepEqual([kv.type, kv.keySize, kv.valueSize, kv.maxEntries], ['hash', 4, 8, 64]);
  assert.equal(kv.lookup(u32(1)), null);
  kv.update(u32(1), u64(100n));
  kv.update(u32(2), u64(200n), 'noexist');
  kv.update(u32(3), u64(300n));
  assert.deepEqual(kv.lookup(u32(2)), u64(200n));
  assert.throws(() => kv.update(u32(2), u64(1n), 'noexist'), {
    name: 'BpfError',
    code: 'EEXIST',
    step: 'map',
  });
  assert.throws(() => kv.update(u32(9), u64(1n), 'exist'), { name: 'BpfError', code: 'ENOENT', step: 'map' });
  kv.update(u32(2), u64(222n), 'exist');
  assert.equal(kv.delete(u32(3)), true);
  assert.equal(kv.delete(u32(3)), false);
  const entries = [...kv.entries()]
    .map(([k, v]) => [k.readUInt32LE(), v.readBigUInt64LE()] as const)
    .sort((a, b) => a[0] - b[0]);
  assert.deepEqual(entries, [
    [1, 100n],
    [2, 222n],
  ]);
  assert.equal([...kv.keys()].length, 2);
});

test('array and per-CPU array values', () => {
  const hits = obj.map('hits');
  assert.equal(hits.type, 'array');
  hits.update(u32(7), u64(77n));
  assert.deepEqual(hits.lookup(u32(7)), u64(77n));
  assert.equal([...hits.keys()].length, 8); // arrays always hold max_entries keys
  assert.throws(() => hits.delete(u32(0)), { name: 'BpfError', code: 'EINVAL', step: 'map' });
});

test('pin, open pinned from a second handle, unpin', () => {
  const kv = obj.map('test_kv');
  kv.update(u32(42), u64(4242n));
  kv.pin(PIN);
  assert.ok(existsSync(PIN));
  const pinned = BpfMap.openPinned(PIN);
  assert.deepEqual([pinned.name, pinned.type, pinned.keySize, pinned.valueSize], ['test_kv', 'hash', 4, 8]);
  assert.deepEqual(pinned.lookup(u32(42)), u64(4242n));
  pinned.update(u32(43), u64(1n)); // same kernel map: visible through the object's handle
  assert.deepEqual(kv.lookup(u32(43)), u64(1n));
  pinned.close();
  pinned.close();
  assert.throws(() => pinned.lookup(u32(42)), { name: 'BpfError', code: 'ERR_CLOSED' });
  BpfMap.unpin(PIN);
  assert.equal(existsSync(PIN), false);
  assert.throws(() => BpfMap.openPinned(PIN), { name: 'BpfError', code: 'ENOENT', step: 'pin' });
});

test('bad keys, values and pin paths are typed errors', () => {
  const kv = obj.map('test_kv');
  assert.throws(() => kv.lookup(u32(1).subarray(0, 3)), {
    name: 'BpfError',
    code: 'ERR_INVALID_ARG',
    message: /key must be 4 bytes, got 3/,
  });
  assert.throws(() => kv.lookup('1' as unknown as Buffer), { name: 'BpfError', code: 'ERR_INVALID_ARG' });
  assert.throws(() => kv.update(u32(1), Buffer.alloc(4)), {
    name: 'BpfError',
    code: 'ERR_INVALID_ARG',
    message: /value must be 8 bytes/,
  });
  assert.throws(() => kv.update(u32(1), u64(1n), 'sometimes' as never), {
    name: 'BpfError',
    code: 'ERR_INVALID_ARG',
  });
  assert.throws(() => kv.pin('/tmp/not-bpffs'), { name: 'BpfError', code: 'ERR_INVALID_ARG' });
  assert.throws(() => BpfMap.openPinned('/sys/fs/bpf/../etc'), { name: 'BpfError', code: 'ERR_INVALID_ARG' });
});
