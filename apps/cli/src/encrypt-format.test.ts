import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEncryptStatus, steeringLine } from './encrypt-format.js';

const steering = { rule: true, route: true, unreachable: true, mark: '0xe00/0xf00', table: 201, repairs: 0 };

test("an agent's steering prints after its key: the mark, the table and the device; what is missing; repairs", () => {
  const lines = formatEncryptStatus({
    node: 'node1',
    mechanism: 'wireguard-go',
    interface: 'wsl-wg-node1',
    publicKey: 'PUB1',
    listenPort: 51871,
    peers: [],
    steering,
  });
  assert.equal(lines[2], '  steering: fwmark 0xe00/0xf00 -> table 201 -> wsl-wg-node1');
  assert.equal(lines[3], '  peers: 0');
  assert.equal(
    steeringLine({ ...steering, route: false, repairs: 2 }, 'wg0'),
    '  steering: fwmark 0xe00/0xf00 -> table 201 -> wg0  MISSING: route to wg0  (put back 2 times)',
  );
  assert.match(steeringLine({ ...steering, repairs: 1 }, 'wg0'), /\(put back 1 time\)$/);
});
