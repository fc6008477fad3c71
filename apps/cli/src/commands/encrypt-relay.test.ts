import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Mechanism, NodeEncryptionStatusSchema, PeerEncryptionStatusSchema } from '@wirescope/flow';
import { formatEncryptStatus } from '../encrypt-format.js';
import { fromRelayNode } from './encrypt-relay.js';

test("the relay's NodeEncryptionStatus prints like an agent's /v1/encrypt (no MTU, handshake age from now)", () => {
  const now = Date.parse('2026-01-02T03:05:05.000Z');
  const view = fromRelayNode(
    create(NodeEncryptionStatusSchema, {
      nodeName: 'node1',
      mechanism: Mechanism.WIREGUARD,
      implementation: 'wireguard-go',
      interface: 'wsl-wg-node1',
      publicKey: 'PUB1',
      listenPort: 51871,
      peers: [
        create(PeerEncryptionStatusSchema, {
          peerNode: 'node2',
          peerPublicKey: 'PUB2',
          endpoint: '10.77.0.12:51871',
          allowedIps: ['10.244.2.0/24'],
          latestHandshake: timestampFromDate(new Date('2026-01-02T03:04:05.000Z')),
          rxBytes: 2048n,
          txBytes: 10n,
        }),
        create(PeerEncryptionStatusSchema, { peerNode: 'node3', peerPublicKey: 'PUB3' }),
      ],
    }),
    now,
  );
  assert.equal(view.node, 'node1');
  assert.equal(view.mtu, undefined);
  assert.equal(view.peers[0]?.handshakeAgeSeconds, 60);
  assert.equal(view.peers[0]?.latestHandshake, '2026-01-02T03:04:05.000Z');
  assert.equal(view.peers[1]?.endpoint, undefined);
  assert.equal(view.peers[1]?.latestHandshake, undefined);
  const lines = formatEncryptStatus(view);
  assert.equal(lines[0], 'node1: wireguard-go interface wsl-wg-node1 port 51871');
  assert.match(
    lines[3] ?? '',
    /node2 +endpoint 10\.77\.0\.12:51871 +allowed-ips 10\.244\.2\.0\/24 +handshake 60s ago +rx 2\.0 KiB +tx 10 B/,
  );
  assert.match(lines[5] ?? '', /node3 +endpoint \(none\) .*handshake never/);
});
