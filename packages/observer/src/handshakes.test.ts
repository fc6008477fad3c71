import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeLog } from './handshakes.js';

test('handshakes seen before the node list are named on read once the peer is known', () => {
  const known = new Map<string, string>();
  const log = new HandshakeLog('node1', 16, (address) => known.get(address));
  log.push({ peerAddress: '10.77.0.12', senderIndex: 1 });
  log.push({ peerAddress: '10.77.0.13', peerNode: 'node3', senderIndex: 2 });
  assert.deepEqual(
    log.recent().map((e) => e.peerNode),
    ['', 'node3'],
  );
  known.set('10.77.0.12', 'node2');
  assert.deepEqual(
    log.recent().map((e) => e.peerNode),
    ['node2', 'node3'],
  );
  assert.deepEqual(
    log.recent(undefined, 'node2').map((e) => e.senderIndex),
    [1],
  );
});

test('the log keeps only its capacity, newest last', () => {
  const log = new HandshakeLog('node1', 2);
  for (const senderIndex of [1, 2, 3]) log.push({ peerAddress: '10.77.0.12', senderIndex });
  assert.deepEqual(
    log.recent().map((e) => e.senderIndex),
    [2, 3],
  );
  assert.deepEqual(
    log.recent(1).map((e) => e.senderIndex),
    [3],
  );
});
