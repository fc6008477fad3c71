import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Merger } from './merge.js';

const tag = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('exact merge: interleaves time-ordered node streams, waiting for every live node', () => {
  const out: string[] = [];
  const m = new Merger({ windowMs: Infinity, capacity: 1000, emit: (b) => (out.push(text(b)), true) });
  for (const id of ['a', 'b', 'c']) m.addSource(id);
  m.push('a', 1, tag('a1'));
  m.push('a', 4, tag('a4'));
  m.push('b', 2, tag('b2'));
  assert.deepEqual(out, [], 'c has said nothing yet');
  m.push('c', 3, tag('c3'));
  assert.deepEqual(out, ['a1', 'b2']);
  m.endSource('b');
  assert.deepEqual(out, ['a1', 'b2', 'c3']);
  m.push('c', 5, tag('c5'));
  m.endSource('a');
  m.endSource('c');
  assert.deepEqual(out, ['a1', 'b2', 'c3', 'a4', 'c5']);
  assert.ok(m.done);
});

test('follow merge: a silent node holds the others back at most the window', async () => {
  let now = 0;
  const out: string[] = [];
  const m = new Merger({
    windowMs: 20,
    capacity: 1000,
    emit: (b) => (out.push(text(b)), true),
    now: () => now,
  });
  m.addSource('a');
  m.addSource('b');
  m.push('a', 10, tag('a10'));
  assert.deepEqual(out, []);
  now = 25;
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(out, ['a10']);
  m.close();
});

test('a full buffer emits the earliest at once', () => {
  const out: string[] = [];
  const m = new Merger({ windowMs: 1e9, capacity: 3, emit: (b) => (out.push(text(b)), true) });
  m.addSource('a');
  m.addSource('b');
  m.push('a', 3, tag('a3'));
  m.push('a', 5, tag('a5'));
  m.push('a', 7, tag('a7'));
  assert.deepEqual(out, ['a3']);
  m.close();
});

test('a slow consumer pauses the merge until resumed', () => {
  const out: string[] = [];
  let accept = false;
  const m = new Merger({ windowMs: Infinity, capacity: 100, emit: (b) => (out.push(text(b)), accept) });
  m.addSource('a');
  m.push('a', 1, tag('a1'));
  m.push('a', 2, tag('a2'));
  m.endSource('a');
  assert.deepEqual(out, ['a1']);
  accept = true;
  m.resume();
  assert.deepEqual(out, ['a1', 'a2']);
});

test('onceBelow wakes a paused source once it has drained to the low mark, after the emit loop', () => {
  const out: string[] = [];
  let accept = false;
  const m = new Merger({ windowMs: Infinity, capacity: 100, emit: (b) => (out.push(text(b)), accept) });
  m.addSource('a');
  for (let t = 1; t <= 4; t++) m.push('a', t, tag(`a${t}`));
  m.endSource('a');
  assert.deepEqual(out, ['a1'], 'the consumer took one and said no more');
  const woken: number[] = [];
  m.onceBelow('a', 1, () => {
    woken.push(m.sourceLength('a'));
    // a listener that pushes at once (as a resumed upstream may) must not reorder the output
    m.addSource('a');
    m.push('a', 9, tag('a9'));
    m.endSource('a');
  });
  assert.deepEqual(woken, [], 'still three queued');
  accept = true;
  m.resume();
  assert.deepEqual(woken, [0], 'called once, after the loop emitted everything it could');
  assert.deepEqual(out, ['a1', 'a2', 'a3', 'a4', 'a9']);
  let immediate = false;
  m.onceBelow('a', 5, () => (immediate = true));
  assert.ok(immediate, 'already below: called at once');
});

test('exact merge of 50 nodes with random interleaving equals the sorted union (heap order, ties by node)', () => {
  // a small deterministic PRNG: the same interleaving on every run
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const nodes = 50;
  const streams: { time: number; tag: string }[][] = [];
  for (let n = 0; n < nodes; n++) {
    let t = 0;
    const items = [];
    for (let i = 0; i < 40; i++) {
      t += Math.floor(random() * 5); // equal times within and across nodes happen often
      items.push({ time: t, tag: `${n}:${i}` });
    }
    streams.push(items);
  }
  const out: string[] = [];
  const m = new Merger({ windowMs: Infinity, capacity: 1e9, emit: (b) => (out.push(text(b)), true) });
  for (let n = 0; n < nodes; n++) m.addSource(`n${n}`);
  const cursor = new Array<number>(nodes).fill(0);
  let left = nodes;
  while (left > 0) {
    const n = Math.floor(random() * nodes);
    const item = streams[n]![cursor[n]!];
    if (item === undefined) continue;
    m.push(`n${n}`, item.time, tag(item.tag));
    if (++cursor[n]! === streams[n]!.length) {
      m.endSource(`n${n}`);
      left--;
    }
  }
  const expected = streams
    .flatMap((items, n) => items.map((item, i) => ({ ...item, n, i })))
    .sort((a, b) => a.time - b.time || a.n - b.n || a.i - b.i)
    .map((item) => item.tag);
  assert.equal(out.length, nodes * 40);
  assert.deepEqual(out, expected);
  assert.ok(m.done);
});
