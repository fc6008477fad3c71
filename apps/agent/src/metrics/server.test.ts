import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeMetrics } from '@wirescope/metrics';
import { buildMetricsApp, metricsListenOptions } from './server.js';
import { AgentMetricsSource } from './source.js';

test('GET /metrics serves the text exposition with the WireGuard device re-read (test double of the agent)', async () => {
  let reads = 0;
  const source = new AgentMetricsSource({
    nodeName: 'node-a',
    nodes: () => [
      {
        name: 'node-a',
        underlayIP: '10.77.0.11',
        podCIDR: '10.244.1.0/24',
        wireguardPublicKey: 'A=',
        wireguardPort: 51871,
      },
      {
        name: 'node-b',
        underlayIP: '10.77.0.12',
        podCIDR: '10.244.2.0/24',
        wireguardPublicKey: 'B=',
        wireguardPort: 51871,
      },
    ],
    encryptStatus: async () => {
      reads++;
      return {
        mechanism: 'wireguard-go',
        interface: 'ws-a-wg0',
        publicKey: 'A=',
        listenPort: 51871,
        mtu: 1420,
        observedAt: new Date().toISOString(),
        peers: [
          {
            node: 'node-b',
            publicKey: 'B=',
            endpoint: '10.77.0.12:51871',
            allowedIPs: ['10.244.2.0/24'],
            latestHandshake: '2026-12-01T23:00:00.000Z',
            handshakeAgeSeconds: 5,
            rxBytes: 10,
            txBytes: 20,
            persistentKeepalive: 25,
            staleSince: '2026-12-01T23:00:01.000Z',
          },
        ],
      };
    },
    datapath: () => undefined,
    observerQueueLost: () => 0,
  });
  const app = buildMetricsApp(new NodeMetrics(source, { hubbleMetrics: 'flow' }));
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(
    res.body,
    /^wireguard_peer_last_handshake_seconds\{device="ws-a-wg0",public_key="B="\} 1796166000$/m,
  );
  assert.match(
    res.body,
    /^wireguard_peer_info\{device="ws-a-wg0",public_key="B=",endpoint="10.77.0.12:51871",name="node-b"\} 1$/m,
  );
  assert.match(res.body, /^wirescope_wireguard_peers\{state="stale"\} 1$/m);
  assert.match(res.body, /^wirescope_cluster_nodes 2$/m);
  assert.match(res.body, /^wirescope_datapath_loaded 0$/m);
  await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(reads, 1, 'a second scrape within a second answers from the last read');
  assert.equal((await app.inject({ method: 'GET', url: '/nope' })).statusCode, 404);
  await app.close();
});

test('listen address: ":port" is every address, host:port and [v6]:port as given', () => {
  assert.deepEqual(metricsListenOptions(':9965'), { host: '0.0.0.0', port: 9965 });
  assert.deepEqual(metricsListenOptions('127.0.0.1:9965'), { host: '127.0.0.1', port: 9965 });
  assert.deepEqual(metricsListenOptions('[::1]:9965'), { host: '::1', port: 9965 });
});

test('GET/POST /v1/metrics/flows turn the flow hook off and on (local API plugin, test double)', async () => {
  const Fastify = (await import('fastify')).default;
  const { metricsControlPlugin } = await import('../api/metrics.js');
  let enabled = true;
  const { describeValidationError, installErrorHandlers } = await import('../api/errors.js');
  // as buildApp sets them up: validation errors are 400 {error: {code, message}}
  const app = Fastify({
    ajv: { customOptions: { coerceTypes: false, verbose: true } },
    schemaErrorFormatter: describeValidationError,
  });
  installErrorHandlers(app, () => ['GET /v1/metrics/flows', 'POST /v1/metrics/flows']);
  await app.register(metricsControlPlugin, {
    source: {
      flowMetrics: () => ({ node: 'node-a', enabled }),
      setFlowMetrics: (e: boolean) => {
        enabled = e;
        return { node: 'node-a', enabled };
      },
    },
  });
  assert.deepEqual((await app.inject({ method: 'GET', url: '/v1/metrics/flows' })).json(), {
    node: 'node-a',
    enabled: true,
  });
  const off = await app.inject({ method: 'POST', url: '/v1/metrics/flows', payload: { enabled: false } });
  assert.deepEqual(off.json(), { node: 'node-a', enabled: false });
  assert.equal(
    (await app.inject({ method: 'POST', url: '/v1/metrics/flows', payload: { enabled: 'no' } })).statusCode,
    400,
  );
  await app.close();
});
