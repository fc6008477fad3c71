// The UI server's routes with inject() against a real Observer gRPC server over replayed, recorded
// flows (the relay's API; labelled replay), and the live socket over a real socket.io connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { makeTestPki } from '@wirescope/observer/testing';
import { loadRecordedFlows } from '@wirescope/flow';
import { buildApp } from './app.js';
import { RelayClient } from './relay-client.js';
import { startReplayRelay, type ReplayRelay } from './testing.js';
import { asFlow, flowEncryption } from '../shared/flow-fields.js';
import { batchRows, type FlowBatch } from './live-hub.js';
import type { ClientToServer, ServerToClient } from './plugins/live.js';
import type { FlowResponse, FlowsResponse } from './plugins/flows.js';
import type { StatusResponse } from './plugins/status.js';
import type { FastifyInstance } from 'fastify';

let replay: ReplayRelay;
let relay: RelayClient;
let app: FastifyInstance;

before(async () => {
  replay = await startReplayRelay({ preload: 148 });
  relay = new RelayClient({ address: replay.address });
  app = await buildApp({ relay, statusIntervalMs: 200 });
});

after(async () => {
  await app.close();
  relay.close();
  await replay.stop();
});

test('GET /api/status: the relay status and its nodes', async () => {
  const res = await app.inject({ url: '/api/status' });
  assert.equal(res.statusCode, 200);
  const body = res.json<StatusResponse>();
  assert.equal(body.nodes.length, 1);
  assert.equal(body.nodes[0]!.name, 'replay-node');
  assert.equal(body.nodes[0]!.state, 'NODE_CONNECTED');
  assert.equal(body.relay.numFlows, 148);
  assert.deepEqual(body.unavailableNodes, []);
});

test('GET /api/namespaces lists the namespaces of the flows, sorted', async () => {
  const res = await app.inject({ url: '/api/namespaces' });
  assert.equal(res.statusCode, 200);
  const names = res.json<{ namespaces: { namespace: string }[] }>().namespaces.map((n) => n.namespace);
  assert.ok(names.length >= 2, names.join());
  assert.deepEqual(names, [...names].sort());
});

test('GET /api/flows: the last N, filtered with the hubble vocabulary, as observe flags', async () => {
  const all = (await app.inject({ url: '/api/flows?limit=1000' })).json<FlowsResponse>();
  assert.equal(all.flows.length, 148);
  // Hubble's JSON, as `observe -o json` prints it: proto field names
  const first = asFlow(all.flows[0]);
  assert.equal(first.node_name, 'wst-node-1', 'the recorded node name, as recorded');
  assert.ok(all.flows.some((f) => asFlow(f).source?.pod_name && asFlow(f).trace_observation_point));
  assert.ok(!('nodeName' in all.flows[0]!));
  const res = await app.inject({ url: '/api/flows?filter=encrypted=false&filter=protocol=tcp&limit=1000' });
  assert.equal(res.statusCode, 200);
  const body = res.json<FlowsResponse>();
  assert.deepEqual(body.observeFlags, ['--unencrypted', '--protocol', 'tcp', '--last', '1000']);
  assert.ok(body.flows.length > 0 && body.flows.length < 148);
  for (const f of body.flows.map(asFlow)) {
    assert.notEqual(f.IP?.encrypted, true);
    assert.ok(f.l4?.TCP);
  }
});

test('GET /api/flow/:uuid: the whole flow behind a live row; one no node holds is NOT_FOUND', async () => {
  const all = (await app.inject({ url: '/api/flows?limit=1000' })).json<FlowsResponse>();
  const withNames =
    all.flows.find((f) => asFlow(f).source_names?.length || asFlow(f).Summary) ?? all.flows[3]!;
  const uuid = asFlow(withNames).uuid!;
  const res = await app.inject({ url: `/api/flow/${encodeURIComponent(uuid)}` });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json<FlowResponse>().flow, withNames);
  const gone = await app.inject({ url: '/api/flow/00000000-no-such-flow' });
  assert.equal(gone.statusCode, 404);
  assert.equal(gone.json<{ error: { code: string } }>().error.code, 'NOT_FOUND');
});

test('GET /api/flows: from:/to: and negation select sides as --from-X/--to-X and --not', async () => {
  const body = (
    await app.inject({ url: '/api/flows?filter=from:namespace=default&filter=!verdict=DROPPED' })
  ).json<FlowsResponse>();
  assert.deepEqual(body.observeFlags, [
    '--from-namespace',
    'default',
    '--not',
    '--verdict',
    'DROPPED',
    '--last',
    '1000',
  ]);
  assert.ok(body.flows.length > 0);
  for (const f of body.flows.map(asFlow)) {
    assert.equal(f.source?.namespace, 'default');
    assert.notEqual(f.verdict, 'DROPPED');
  }
});

test('a bad filter is a 400 naming it, for the inline error', async () => {
  const res = await app.inject({ url: '/api/flows?filter=verdict=SOMETIMES' });
  assert.equal(res.statusCode, 400);
  const err = res.json<{ error: { code: string; message: string } }>().error;
  assert.equal(err.code, 'INVALID_FILTER');
  assert.match(err.message, /SOMETIMES/);
  const side = await app.inject({ url: '/api/flows?filter=from:verdict=DROPPED' });
  assert.equal(side.statusCode, 400);
  assert.match(side.json<{ error: { message: string } }>().error.message, /endpoint kinds/);
  const limit = await app.inject({ url: '/api/flows?limit=0' });
  assert.equal(limit.statusCode, 400);
});

test('history by time range: since/until as observe takes them', async () => {
  const body = (await app.inject({ url: '/api/flows?since=10m&limit=20000' })).json<FlowsResponse>();
  assert.deepEqual(body.observeFlags, ['--since', '10m', '--all']);
  assert.equal(body.flows.length, 148);
  const none = (await app.inject({ url: '/api/flows?until=2000-01-01T00:00:00Z' })).json<FlowsResponse>();
  assert.equal(none.flows.length, 0);
  const bad = await app.inject({ url: '/api/flows?since=yesterday' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /yesterday/);
});

test('export: JSON lines and CSV of the same selection as the table', async () => {
  const table = (await app.inject({ url: '/api/flows?filter=encrypted=true' })).json<FlowsResponse>();
  const jsonl = await app.inject({ url: '/api/flows/export?filter=encrypted=true&format=jsonl' });
  assert.equal(jsonl.statusCode, 200);
  assert.match(
    String(jsonl.headers['content-disposition']),
    /attachment; filename="wirescope-flows-.*\.jsonl"/,
  );
  const lines = jsonl.body
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  assert.deepEqual(lines, table.flows);
  const csv = await app.inject({ url: '/api/flows/export?filter=encrypted=true&format=csv' });
  assert.match(String(csv.headers['content-type']), /text\/csv/);
  const rows = csv.body.trimEnd().split('\n');
  assert.equal(rows.length, table.flows.length + 1);
  assert.match(rows[0]!, /^time,node,source,/);
  assert.ok(rows.slice(1).every((r) => r.includes('WireGuard')));
});

test('GET /api/encryption: nodes and handshakes from the Wirescope service', async () => {
  const res = await app.inject({ url: '/api/encryption' });
  assert.equal(res.statusCode, 200);
  const body = res.json<{ nodes: unknown[]; handshakes: unknown[] }>();
  assert.deepEqual(body.nodes, []);
  assert.deepEqual(body.handshakes, []);
});

test('an unreachable relay is a 502 with the reason, not a hang', async () => {
  const gone = new RelayClient({ address: '127.0.0.1:1', timeoutMs: 500 });
  const lone = await buildApp({ relay: gone });
  try {
    const res = await lone.inject({ url: '/api/status' });
    assert.equal(res.statusCode, 502);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'RELAY_UNAVAILABLE');
  } finally {
    await lone.close();
    gone.close();
  }
});

test('the relay over mutual TLS, as in the lab', async () => {
  const pki = makeTestPki();
  const tlsRelay = await startReplayRelay({
    tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca },
    preload: 5,
  });
  const client = new RelayClient({
    address: tlsRelay.address.replace('127.0.0.1', 'localhost'),
    tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
  });
  const tlsApp = await buildApp({ relay: client });
  try {
    const body = (await tlsApp.inject({ url: '/api/flows' })).json<FlowsResponse>();
    assert.equal(body.flows.length, 5);
  } finally {
    await tlsApp.close();
    client.close();
    await tlsRelay.stop();
  }
});

function socketTo(url: string): Socket<ServerToClient, ClientToServer> {
  return connectSocket(url, { transports: ['websocket'], forceNew: true });
}

test('live: batches over socket.io, one relay stream per distinct filter, status pushed', async () => {
  const liveApp = await buildApp({ relay, statusIntervalMs: 200 });
  await liveApp.listen({ host: '127.0.0.1', port: 0 });
  const address = liveApp.server.address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const a = socketTo(url);
  const b = socketTo(url);
  try {
    const batchesA: FlowBatch[] = [];
    const batchesB: FlowBatch[] = [];
    a.on('flows', (batch, ack) => {
      batchesA.push(batch);
      ack();
    });
    b.on('flows', (batch, ack) => {
      batchesB.push(batch);
      ack();
    });
    const status = new Promise<StatusResponse>((resolve) =>
      a.once('status', (s) => resolve(s as StatusResponse)),
    );
    const subscribe = (s: typeof a, filters: string[]) =>
      new Promise((resolve) => s.emit('subscribe', { filters }, resolve));
    assert.deepEqual(await subscribe(a, ['encrypted=true']), { ok: true });
    assert.deepEqual(await subscribe(b, ['encrypted=true']), { ok: true });
    assert.equal(liveApp.live.hub.streamCount, 1, 'two sockets, one filter: one relay stream');
    const bad = (await subscribe(b, ['verdict=NOPE'])) as { ok: boolean; error: { code: string } };
    assert.equal(bad.ok, false);
    assert.equal(bad.error.code, 'INVALID_FILTER');
    assert.deepEqual(await subscribe(b, ['encrypted=false']), { ok: true });
    assert.equal(liveApp.live.hub.streamCount, 2);
    await new Promise((r) => setTimeout(r, 200)); // the follow streams are open at the relay
    replay.replay(148);
    const deadline = Date.now() + 5000;
    const count = (bs: FlowBatch[]) => bs.reduce((n, x) => n + x.count, 0);
    const expected = loadRecordedFlows().filter((f) => f.IP?.encrypted).length;
    while (Date.now() < deadline && (count(batchesA) < expected || count(batchesB) === 0))
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(count(batchesA) >= expected, `${count(batchesA)} of ${expected}`);
    for (const f of batchesA.flatMap(batchRows)) assert.equal(flowEncryption(asFlow(f)), 'encrypted');
    for (const f of batchesB.flatMap(batchRows)) assert.notEqual(asFlow(f).IP?.encrypted, true);
    assert.ok(batchesA.every((x) => x.skipped === 0));
    assert.equal((await status).nodes[0]?.name, 'replay-node');
  } finally {
    a.close();
    b.close();
    await liveApp.close();
  }
});
