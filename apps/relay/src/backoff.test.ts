import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('backoff doubles from 1 s to an 8 s ceiling and resets', () => {
  const b = new Backoff();
  const delays = Array.from({ length: 9 }, () => b.next());
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000, 8000]);
  b.reset();
  assert.equal(b.next(), 1000);
});

test('jitter stays within its spread and the ceiling', () => {
  let r = 0;
  const values = [0, 1, 0.5];
  const b = new Backoff({ jitter: 0.2, random: () => values[r++ % 3]! });
  assert.equal(b.next(), 800);
  assert.equal(b.next(), 2400);
  assert.equal(b.next(), 4000);
  const capped = new Backoff({ jitter: 0.2, initialMs: 60_000, maxMs: 60_000, random: () => 1 });
  assert.equal(capped.next(), 60_000);
});
