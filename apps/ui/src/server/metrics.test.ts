// The charts' PromQL evaluated by Prometheus's own engine (`promtool test rules`, on synthetic
// series), and GET /api/metrics/:chart through inject() against a fake Prometheus HTTP API (what
// it asks, what it answers, and every way it degrades to METRICS_UNAVAILABLE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { PrometheusClient } from './prometheus.js';
import type { RelayApi } from './relay-client.js';
import { chartExpr, chartStep, type ChartResponse } from './plugins/metrics.js';
import { chartIds, type ChartId } from '../shared/charts.js';

const agent = (node: string) => `instance="${node}:9965",job="wirescope-agent",node="${node}"`;

test('every chart query, evaluated by promtool on synthetic series, gives the expected values', () => {
  // 15 s samples growing by 15 a step are exactly 1/s under a 60 s rate window
  const input = [
    [`hubble_flows_processed_total{${agent('a')},protocol="TCP",verdict="FORWARDED"}`, '0+15x80'],
    [`hubble_flows_processed_total{${agent('b')},protocol="TCP",verdict="FORWARDED"}`, '0+30x80'],
    [`hubble_flows_processed_total{${agent('b')},protocol="UDP",verdict="DROPPED"}`, '0+15x80'],
    [`hubble_drop_total{${agent('b')},reason="POLICY_DENIED",protocol="TCP"}`, '0+15x80'],
    [
      `wirescope_encryption_bytes_total{${agent('a')},source_node="a",destination_node="b",state="encrypted"}`,
      '0+150x80',
    ],
    [
      `wirescope_encryption_bytes_total{${agent('a')},source_node="a",destination_node="b",state="plaintext"}`,
      '0+15x80',
    ],
    [
      `wirescope_encryption_bytes_total{${agent('a')},source_node="a",destination_node="b",state="dropped"}`,
      '0+15x80',
    ],
    [`wireguard_peer_last_handshake_seconds{${agent('a')},device="wg0",public_key="KB"}`, '500x80'],
    [
      `wireguard_peer_info{${agent('a')},device="wg0",public_key="KB",endpoint="10.0.0.2:51820",name="b"}`,
      '1x80',
    ],
    [`wireguard_peer_last_handshake_seconds{${agent('a')},device="wg0",public_key="KC"}`, '0x80'],
    [
      `wireguard_peer_info{${agent('a')},device="wg0",public_key="KC",endpoint="10.0.0.3:51820",name="c"}`,
      '1x80',
    ],
    [`wirescope_lost_events_total{${agent('a')},stage="kernel_ring"}`, '0+15x80'],
    [`wirescope_flow_ring_flows{${agent('a')}}`, '2048x80'],
    [`wirescope_flow_ring_capacity{${agent('a')}}`, '4096x80'],
  ];
  const expected: Record<ChartId, { labels: string; value: number }[]> = {
    'flows-by-verdict': [
      { labels: '{verdict="DROPPED"}', value: 1 },
      { labels: '{verdict="FORWARDED"}', value: 3 },
    ],
    'drops-by-reason': [{ labels: '{reason="POLICY_DENIED"}', value: 1 }],
    'encrypted-bytes': [
      { labels: '{source_node="a",destination_node="b",state="encrypted"}', value: 10 },
      { labels: '{source_node="a",destination_node="b",state="plaintext"}', value: 1 },
    ],
    // evaluated at 600 s: the handshake at 500 s is 100 s old; peer c never shook hands
    'handshake-age': [{ labels: '{node="a",name="b"}', value: 100 }],
    'lost-events': [{ labels: '{node="a",stage="kernel_ring"}', value: 1 }],
    'ring-fill': [{ labels: '{node="a"}', value: 50 }],
  };
  const dir = mkdtempSync(join(tmpdir(), 'ui-charts-'));
  try {
    writeFileSync(join(dir, 'none.yml'), 'groups: []\n');
    const tests = {
      rule_files: ['none.yml'],
      evaluation_interval: '15s',
      tests: [
        {
          interval: '15s',
          input_series: input.map(([series, values]) => ({ series, values })),
          promql_expr_test: chartIds.map((id) => ({
            expr: chartExpr(id, 60),
            eval_time: '10m',
            exp_samples: expected[id],
          })),
        },
      ],
    };
    writeFileSync(join(dir, 'charts.test.yml'), JSON.stringify(tests));
    execFileSync('promtool', ['test', 'rules', 'charts.test.yml'], { cwd: dir, stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    assert.fail(`promtool: ${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? String(err)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function fakePrometheus(answer: (query: URLSearchParams) => { status: number; body: unknown }) {
  const asked: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/query_range') {
      res.writeHead(404).end();
      return;
    }
    asked.push(url.searchParams);
    const { status, body } = answer(url.searchParams);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, asked, close: () => new Promise((r) => server.close(r)) };
}

const noRelay = { address: 'none' } as unknown as RelayApi;
const now = 1_800_000_000_000;

test('GET /api/metrics/:chart: the fixed query over the range, series named and sorted, NaN dropped', async () => {
  const prom = await fakePrometheus(() => ({
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { source_node: 'node2', destination_node: 'node1', state: 'plaintext' },
            values: [
              [now / 1000 - 30, '4'],
              [now / 1000 - 15, 'NaN'],
            ],
          },
          {
            metric: { source_node: 'node1', destination_node: 'node2', state: 'encrypted' },
            values: [[now / 1000 - 30, '1250.5']],
          },
        ],
      },
    },
  }));
  const app = await buildApp({ relay: noRelay, prometheus: new PrometheusClient(prom.url), now: () => now });
  try {
    const res = await app.inject({ url: '/api/metrics/encrypted-bytes?range=1h' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<ChartResponse>();
    const asked = prom.asked[0]!;
    assert.equal(asked.get('query'), chartExpr('encrypted-bytes', chartStep(3600)));
    assert.equal(Number(asked.get('end')), now / 1000);
    assert.equal(Number(asked.get('start')), now / 1000 - 3600);
    assert.equal(Number(asked.get('step')), 30);
    assert.equal(body.unit, 'B/s');
    assert.deepEqual(
      body.series.map((s) => [s.name, s.points]),
      [
        ['node1→node2 encrypted', [[now / 1000 - 30, 1250.5]]],
        ['node2→node1 plaintext', [[now / 1000 - 30, 4]]],
      ],
    );
    assert.equal((await app.inject({ url: '/api/metrics/handshake-age' })).json<ChartResponse>().step, 8);
    const badRange = await app.inject({ url: '/api/metrics/ring-fill?range=2d' });
    assert.equal(badRange.statusCode, 400);
    const badChart = await app.inject({ url: '/api/metrics/anything-at-all' });
    assert.equal(badChart.statusCode, 400);
    assert.equal(prom.asked.length, 2, 'a refused request never reaches Prometheus');
  } finally {
    await app.close();
    await prom.close();
  }
});

test('without Prometheus, or when it refuses, every chart is METRICS_UNAVAILABLE with the reason', async () => {
  const refusing = await fakePrometheus(() => ({
    status: 400,
    body: { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' },
  }));
  const gone = await fakePrometheus(() => ({ status: 200, body: {} }));
  await gone.close();
  const cases = [
    { prometheus: undefined, message: /no Prometheus configured/ },
    { prometheus: new PrometheusClient(gone.url), message: /did not answer: ECONNREFUSED/ },
    { prometheus: new PrometheusClient(refusing.url), message: /refused the query: parse error at char 3/ },
  ];
  try {
    for (const c of cases) {
      const app = await buildApp({ relay: noRelay, prometheus: c.prometheus });
      try {
        const res = await app.inject({ url: '/api/metrics/flows-by-verdict' });
        assert.equal(res.statusCode, 503);
        const { error } = res.json<{ error: { code: string; message: string } }>();
        assert.equal(error.code, 'METRICS_UNAVAILABLE');
        assert.match(error.message, c.message);
      } finally {
        await app.close();
      }
    }
  } finally {
    await refusing.close();
  }
});
