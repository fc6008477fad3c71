// The UAPI reader against a real wireguard-go (in a namespace of its own, no traffic) and against
// `wg show dump` of the same device, plus the parser on a recorded answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseWgDump } from './dump.js';
import { generateKeyPair, publicKeyOf } from './keys.js';
import { parseUapiGet, readUapi, uapiSocketPath } from './uapi.js';

const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');

test('parseUapiGet: interface key derived from the private key, peers in base64, errno checked', () => {
  const self = generateKeyPair();
  const peer = generateKeyPair();
  const text = [
    `private_key=${hex(self.privateKey)}`,
    'listen_port=51871',
    `public_key=${hex(peer.publicKey)}`,
    `preshared_key=${'0'.repeat(64)}`,
    'protocol_version=1',
    'endpoint=10.77.0.12:51871',
    'last_handshake_time_sec=1763726400',
    'last_handshake_time_nsec=5',
    'tx_bytes=5678',
    'rx_bytes=1234',
    'persistent_keepalive_interval=25',
    'allowed_ip=10.244.2.0/24',
    'allowed_ip=10.245.0.0/16',
    'errno=0',
    '',
    '',
  ].join('\n');
  assert.deepEqual(parseUapiGet(text), {
    publicKey: self.publicKey,
    listenPort: 51871,
    peers: [
      {
        publicKey: peer.publicKey,
        endpoint: '10.77.0.12:51871',
        allowedIPs: ['10.244.2.0/24', '10.245.0.0/16'],
        latestHandshake: 1763726400,
        rxBytes: 1234,
        txBytes: 5678,
        persistentKeepalive: 25,
      },
    ],
  });
  assert.throws(() => parseUapiGet('errno=-2\n\n'), /errno -2/);
  assert.throws(() => parseUapiGet('listen_port=1\n'), /without errno/);
  assert.equal(publicKeyOf(self.privateKey), self.publicKey);
});

const haveTools =
  ['/usr/bin/wireguard-go', '/usr/bin/wg'].every((p) => existsSync(p)) && process.getuid?.() === 0;

test(
  'readUapi gives what `wg show dump` gives for a live wireguard-go',
  { skip: !haveTools && 'needs root, wireguard-go and wg' },
  async (t) => {
    const ns = `wst-uapi-${process.pid}`;
    const dev = `wstu${process.pid % 100000}`;
    const inNs = (...args: string[]) =>
      execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8' });
    execFileSync('ip', ['netns', 'add', ns]);
    const wg = spawn('ip', ['netns', 'exec', ns, 'wireguard-go', '-f', dev], {
      stdio: 'ignore',
      env: { ...process.env, WG_PROCESS_FOREGROUND: '1' },
    });
    t.after(() => {
      if (wg.exitCode === null) wg.kill('SIGTERM');
      execFileSync('ip', ['netns', 'del', ns]);
    });
    const socket = uapiSocketPath(dev);
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
    assert.ok(existsSync(socket), `wireguard-go made ${socket}`);
    const self = generateKeyPair();
    const peers = [generateKeyPair(), generateKeyPair()];
    const keyFile = `/tmp/${ns}.key`;
    execFileSync('sh', ['-c', `umask 077; printf %s '${self.privateKey}' > ${keyFile}`]);
    inNs('wg', 'set', dev, 'private-key', keyFile, 'listen-port', '51999');
    inNs(
      'wg',
      'set',
      dev,
      'peer',
      peers[0]!.publicKey,
      'endpoint',
      '192.0.2.7:51871',
      'allowed-ips',
      '10.244.2.0/24',
      'persistent-keepalive',
      '25',
    );
    inNs('wg', 'set', dev, 'peer', peers[1]!.publicKey, 'allowed-ips', '10.244.3.0/24,10.245.0.0/16');
    execFileSync('rm', ['-f', keyFile]);
    const viaUapi = await readUapi(socket);
    const viaWg = parseWgDump(inNs('wg', 'show', dev, 'dump'));
    const byKey = (s: typeof viaWg) => ({
      ...s,
      peers: [...s.peers].sort((a, b) => a.publicKey.localeCompare(b.publicKey)),
    });
    assert.deepEqual(byKey(viaUapi), byKey(viaWg));
    assert.equal(viaUapi.publicKey, self.publicKey);
    assert.equal(viaUapi.peers.length, 2);
    await assert.rejects(readUapi('/var/run/wireguard/wst-none.sock'), /UAPI .*wst-none\.sock/);
  },
);
