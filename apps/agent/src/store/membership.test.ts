import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeMembership } from './membership.js';
import { nodeRecord } from './node-fixture.test.js';

const node = nodeRecord;
const nodes = [node('node1', 1), node('node2', 2), node('node3', 3)];
const names = (list: { name: string }[]) => list.map((n) => n.name);

test('a lapsed lease keeps the node (stale) until the grace period ends, then drops it', () => {
  const m = new NodeMembership('node1', 600_000);
  let view = m.update(nodes, new Set(['node2', 'node3']), 0);
  assert.deepEqual(names(view.kept), ['node1', 'node2', 'node3']);
  assert.deepEqual(view.stale, []);

  view = m.update(nodes, new Set(['node3']), 1_000);
  assert.deepEqual(names(view.kept), ['node1', 'node2', 'node3']);
  assert.deepEqual(view.stale, [{ name: 'node2', since: 1_000 }]);
  assert.deepEqual(view.lapsed, ['node2']);

  view = m.update(nodes, new Set(['node3']), 600_999);
  assert.deepEqual(view.lapsed, [], 'reported once');
  assert.deepEqual(names(view.kept), ['node1', 'node2', 'node3']);

  view = m.update(nodes, new Set(['node3']), 601_000);
  assert.deepEqual(view.expired, ['node2']);
  assert.deepEqual(names(view.kept), ['node1', 'node3']);
  view = m.update(nodes, new Set(['node3']), 700_000);
  assert.deepEqual(view.expired, [], 'reported once');
  assert.deepEqual(names(view.kept), ['node1', 'node3']);
});

test('an agent that comes back is kept again and reported as recovered', () => {
  const m = new NodeMembership('node1', 10_000);
  m.update(nodes, new Set(['node3']), 0);
  let view = m.update(nodes, new Set(['node2', 'node3']), 5_000);
  assert.deepEqual(view.recovered, ['node2']);
  assert.deepEqual(view.stale, []);
  // after expiry too
  m.update(nodes, new Set(['node3']), 6_000);
  m.update(nodes, new Set(['node3']), 20_000);
  view = m.update(nodes, new Set(['node2', 'node3']), 21_000);
  assert.deepEqual(view.recovered, ['node2']);
  assert.deepEqual(names(view.kept), ['node1', 'node2', 'node3']);
});

test('a node deleted from the store goes at once; this node is never stale', () => {
  const m = new NodeMembership('node1', 600_000);
  m.update(nodes, new Set(), 0);
  const view = m.update([node('node1', 1), node('node3', 3)], new Set(), 1_000);
  assert.deepEqual(names(view.kept), ['node1', 'node3']);
  assert.deepEqual(names(view.stale), ['node3']);
  assert.equal(m.staleSinceOf('node2'), undefined);
});
