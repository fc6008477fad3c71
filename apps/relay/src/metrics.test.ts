import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { PeerManager } from './peers.js';
import { startMetricsServer } from './metrics.js';
import { parseRelayArgs } from './config.js';

test('relay metrics server: pool status (an unreachable peer is not READY) and discovered targets', async () => {
  const peers = new PeerManager({ connectTimeoutMs: 200, backoff: { initialMs: 60_000, maxMs: 60_000 } });
  // a loopback port nothing listens on: the connection fails at once
  peers.upsert({ name: 'node-a', address: '127.0.0.1:1' });
  const server = await startMetricsServer(peers, { listen: '127.0.0.1:0', agentMetricsPort: 9965 });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const ready = /^hubble_relay_pool_peer_connection_status\{status="READY"\} (\d+)$/m.exec(metrics);
    assert.equal(ready?.[1], '0');
    const total = [
      ...metrics.matchAll(/^hubble_relay_pool_peer_connection_status\{status="[A-Z_]+"\} (\d+)$/gm),
    ];
    assert.equal(total.length, 6, 'all six statuses');
    assert.equal(
      total.reduce((n, m) => n + Number(m[1]), 0),
      1,
    );
    assert.match(metrics, /^process_cpu_seconds_total /m);
    const targets = await (await fetch(`${base}/v1/prometheus/targets`)).json();
    assert.deepEqual(targets, [{ targets: ['127.0.0.1:9965'], labels: { node: 'node-a' } }]);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    server.close();
    peers.close();
  }
});

test('relay metrics flags: off by default, :PORT accepted, bad values refused', () => {
  const base = ['--static-peers', 'a=127.0.0.1:4244'];
  assert.equal(parseRelayArgs(base).metricsListen, '');
  assert.equal(parseRelayArgs([...base, '--metrics-listen-address', ':9966']).metricsListen, ':9966');
  assert.throws(() => parseRelayArgs([...base, '--metrics-listen-address', '9966']), /is not :PORT/);
  assert.throws(() => parseRelayArgs([...base, '--agent-metrics-port', 'x']), /is not a port/);
});
