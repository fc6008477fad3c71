import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWgDump } from './dump.js';

test('parses the interface line and every peer of `wg show dump`', () => {
  const text = [
    'cHJpdmF0ZQ==\tUFVCTElDMQ==\t51871\toff',
    'UEVFUjI=\t(none)\t10.77.0.12:51871\t10.244.2.0/24\t1763726400\t1234\t5678\t25',
    'UEVFUjM=\t(none)\t(none)\t10.244.3.0/24,10.245.0.0/16\t0\t0\t0\toff',
    '',
  ].join('\n');
  const state = parseWgDump(text);
  assert.equal(state.publicKey, 'UFVCTElDMQ==');
  assert.equal(state.listenPort, 51871);
  assert.deepEqual(state.peers, [
    {
      publicKey: 'UEVFUjI=',
      endpoint: '10.77.0.12:51871',
      allowedIPs: ['10.244.2.0/24'],
      latestHandshake: 1763726400,
      rxBytes: 1234,
      txBytes: 5678,
      persistentKeepalive: 25,
    },
    {
      publicKey: 'UEVFUjM=',
      endpoint: undefined,
      allowedIPs: ['10.244.3.0/24', '10.245.0.0/16'],
      latestHandshake: 0,
      rxBytes: 0,
      txBytes: 0,
      persistentKeepalive: 0,
    },
  ]);
});

test('rejects output that is not a dump', () => {
  assert.throws(
    () => parseWgDump('Unable to access interface: No such device'),
    /unexpected "wg show dump" output/,
  );
});
