import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayMetrics, type RelayPeerSnapshot } from './relay.js';
import { parseExposition } from './test-support/synthetic.js';

test('relay: every connection status present, zeros included; peers as service-discovery targets', async () => {
  let peers: RelayPeerSnapshot[] = [
    { name: 'node-b', address: '10.77.0.12:4244', status: 'READY' },
    { name: 'node-a', address: '10.77.0.11:4244', status: 'READY' },
    { name: 'node-c', address: '[fd00::3]:4244', status: 'TRANSIENT_FAILURE' },
  ];
  const m = new RelayMetrics({ peers: () => peers });
  const status = async () =>
    Object.fromEntries(
      parseExposition((await m.scrape()).body)
        .filter((s) => s.name === 'hubble_relay_pool_peer_connection_status')
        .map((s) => [s.labels.status, s.value]),
    );
  assert.deepEqual(await status(), {
    IDLE: 0,
    CONNECTING: 0,
    READY: 2,
    TRANSIENT_FAILURE: 1,
    SHUTDOWN: 0,
    NIL_CONNECTION: 0,
  });
  assert.deepEqual(m.targets(9965), [
    { targets: ['10.77.0.11:9965'], labels: { node: 'node-a' } },
    { targets: ['10.77.0.12:9965'], labels: { node: 'node-b' } },
    { targets: ['[fd00::3]:9965'], labels: { node: 'node-c' } },
  ]);
  peers = [];
  const withTraffic = new RelayMetrics({
    peers: () => [],
    traffic: () => ({ requests: { follow: 3, query: 5 }, open: { follow: 2, query: 0 }, flowsSent: 42 }),
  });
  const body = (await withTraffic.scrape()).body;
  assert.match(body, /^wirescope_relay_get_flows_requests_total\{mode="follow"\} 3$/m);
  assert.match(body, /^wirescope_relay_clients\{mode="follow"\} 2$/m);
  assert.match(body, /^wirescope_relay_flows_sent_total 42$/m);
  assert.equal((await status()).READY, 0);
  assert.match(
    (await m.scrape()).body,
    /# HELP hubble_relay_pool_peer_connection_status Measures the connectivity status of all peers by counting the number of peers for each given connection status\./,
  );
});
