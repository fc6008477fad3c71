import { test } from 'node:test';
import assert from 'node:assert/strict';
import { procRoutesVia } from './routes.js';

test('procRoutesVia reads the routes through one device from /proc/net/route text', () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t014D4D0A\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t00004D0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'wsl-wg-node1\t0002F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'wsl-wg-node1\t0003F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'lxc1\t0B01F40A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0',
    '',
  ].join('\n');
  assert.deepEqual(procRoutesVia('wsl-wg-node1', table), ['10.244.2.0/24', '10.244.3.0/24']);
  assert.deepEqual(procRoutesVia('lxc1', table), ['10.244.1.11/32']);
  assert.deepEqual(procRoutesVia('eth0', table), ['0.0.0.0/0', '10.77.0.0/16']);
  assert.deepEqual(procRoutesVia('none', table), []);
  // this process's own namespace: the file is there and parses
  assert.ok(Array.isArray(procRoutesVia('lo')));
});
