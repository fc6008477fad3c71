import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointValue, ipcacheKey, ipcacheValue, nodeIdOf } from './maps.js';
import { kernelDropReasons } from './controller.js';

test('ipcache key is {prefixlen u32 LE, address in network order}', () => {
  assert.equal(ipcacheKey('10.244.2.0/24').toString('hex'), '180000000af40200');
  assert.equal(ipcacheKey('10.244.2.10').toString('hex'), '200000000af4020a');
  assert.throws(() => ipcacheKey('10.244.2.1/24'), /not an IPv4 prefix/);
});

test('ipcache and endpoint values follow bpf/lib/maps.h', () => {
  const v = ipcacheValue({
    prefix: '10.244.2.10/32',
    identity: 1002,
    nodeId: nodeIdOf('10.77.0.12'),
    tunnelIP: '10.77.0.12',
    ifindex: 7,
    flags: 3,
  });
  assert.equal(v.length, 24);
  assert.equal(v.readUInt32LE(0), 1002);
  assert.equal(v.readUInt32LE(4), 0x0a4d000c);
  assert.equal(v.subarray(8, 12).toString('hex'), '0a4d000c');
  assert.equal(v.readUInt32LE(12), 7);
  assert.equal(v.readUInt32LE(16), 3);
  const e = endpointValue({ ifindex: 7, mac: 'aa:bb:cc:dd:ee:0f', identity: 1001, ip: '10.244.1.11' });
  assert.equal(e.length, 20);
  assert.equal(e.subarray(0, 6).toString('hex'), 'aabbccddee0f');
  assert.equal(e.readUInt32LE(8), 1001);
  assert.throws(() => endpointValue({ ifindex: 7, mac: 'nope', identity: 1, ip: '10.0.0.1' }), /not a MAC/);
});

test('kernel drop reason names are read from vmlinux.h enum text', () => {
  const names = kernelDropReasons(
    'enum skb_drop_reason {\n\tSKB_DROP_REASON_NOT_SPECIFIED = 2,\n\tSKB_DROP_REASON_NO_SOCKET = 3,\n};',
  );
  assert.equal(names.get(3), 'NO_SOCKET');
  assert.equal(names.get(2), 'NOT_SPECIFIED');
});
