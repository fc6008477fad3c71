import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRelayArgs } from './config.js';

test('relay flags: defaults, static peers, TLS pairs', () => {
  const c = parseRelayArgs([
    '--static-peers',
    'n1=10.0.0.1:4244,n2=10.0.0.2',
    '--unix-socket',
    '/tmp/wst3-r.sock',
  ]);
  assert.deepEqual(c.listen, ['127.0.0.1:4245', 'unix:///tmp/wst3-r.sock']);
  assert.deepEqual(c.staticPeers, [
    { name: 'n1', address: '10.0.0.1:4244' },
    { name: 'n2', address: '10.0.0.2' },
  ]);
  assert.equal(c.windowMs, 20);
  const t = parseRelayArgs([
    '--peer-service',
    'unix:///run/x.sock',
    '--tls-cert',
    'c',
    '--tls-key',
    'k',
    '--peer-tls-ca',
    'ca',
  ]);
  assert.deepEqual(t.tls, { cert: 'c', key: 'k', clientCa: undefined });
  assert.equal(t.peerTls?.ca, 'ca');
  assert.deepEqual(t.peerService, ['unix:///run/x.sock']);
  const several = parseRelayArgs(['--peer-service', '10.77.0.11:4244, 10.77.0.12:4244,']);
  assert.deepEqual(several.peerService, ['10.77.0.11:4244', '10.77.0.12:4244']);
});

test('bad relay flags fail with one line naming the flag', () => {
  const bad: [string[], RegExp][] = [
    [[], /no agents to relay: give --peer-service/],
    [['--static-peers', 'oops'], /--static-peers: "oops" is not name=host:port/],
    [['--peer-service', 'x', '--merge-window-ms', 'fast'], /--merge-window-ms: "fast"/],
    [['--peer-service', 'x', '--tls-cert', 'c'], /--tls-cert and --tls-key go together/],
    [['--peer-service', 'x', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, re] of bad) {
    assert.throws(
      () => parseRelayArgs(args),
      (err: Error) => re.test(err.message) && !err.message.includes('\n'),
    );
  }
});
