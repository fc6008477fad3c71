// The follow stream (NDJSON) in-process and on a real unix socket, and the typed client's round
// trip over one: backlog then live items, a slow reader told what it missed, cleanup on close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { HandshakeEventSchema } from '@wirescope/flow';
import { buildApp } from './app.js';
import { AgentRequestError, agentRequest, onLines } from './client.js';
import { FakeAgent, flow } from './fake-agent.test.js';
import { FollowStream } from './follow-stream.js';
import type { ObservedItem } from '../flows/observer.js';
import type { HealthResponse } from './health.js';
import { FLOWS_JSON_CHUNK, type FlowsResponse } from './flows.js';

interface Line {
  flow?: { l4?: { TCP?: { source_port?: number } } };
  handshake?: { peer_node?: string };
  lost_events?: { source: string; num_events_lost: number };
}

/** Reads NDJSON lines off a response as they come. */
function lineReader(res: NodeJS.ReadableStream): () => Promise<Line> {
  const lines: Line[] = [];
  const waiting: ((line: Line) => void)[] = [];
  onLines(res, (text) => {
    const line = JSON.parse(text) as Line;
    const wake = waiting.shift();
    if (wake) wake(line);
    else lines.push(line);
  });
  return () => {
    const line = lines.shift();
    return line ? Promise.resolve(line) : new Promise((resolve) => waiting.push(resolve));
  };
}

const portOf = (line: Line) => line.flow?.l4?.TCP?.source_port;

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function socketDir(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wirescope-api-'));
  return { path: join(dir, 'agent.sock'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function follow(socketPath: string, path: string): Promise<{ res: IncomingMessage; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => resolve({ res, destroy: () => req.destroy() }));
    req.on('error', reject);
    req.end();
  });
}

test('GET /v1/flows/follow via inject: NDJSON, the last N flows, then live flows and handshakes', async () => {
  const agent = new FakeAgent();
  agent.feed.addFlows(5); // source ports 0..4
  const app = buildApp(agent);
  const res = await app.inject({ method: 'GET', url: '/v1/flows/follow?last=2', payloadAsStream: true });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/x-ndjson');
  const next = lineReader(res.stream());
  assert.equal(portOf(await next()), 3);
  assert.equal(portOf(await next()), 4);
  agent.feed.emit({ kind: 'flow', flow: flow(99) });
  agent.feed.emit({
    kind: 'handshake',
    handshake: create(HandshakeEventSchema, { nodeName: 'node1', peerNode: 'node3' }),
  });
  assert.equal(portOf(await next()), 99);
  assert.equal((await next()).handshake?.peer_node, 'node3');
  await app.close(); // injected requests have no socket to close: cleanup is tested on the socket
});

test('follow on the unix socket: headers at once, live items, unsubscribed when the client goes away', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const socket = socketDir();
  try {
    await app.listen({ path: socket.path });
    // no backlog, nothing live yet: the follower still learns at once that it is connected
    const { res, destroy } = await follow(socket.path, '/v1/flows/follow');
    assert.equal(res.statusCode, 200);
    assert.equal(agent.feed.subscribers.size, 1);
    const next = lineReader(res);
    agent.feed.emit({ kind: 'flow', flow: flow(7) });
    assert.equal(portOf(await next()), 7);
    destroy();
    await until('the stream to unsubscribe', () => agent.feed.subscribers.size === 0);
    // the server keeps serving others
    const again = await follow(socket.path, '/v1/flows/follow?last=0');
    assert.equal(again.res.statusCode, 200);
    await app.close(); // a follower still connected does not hold the agent's stop
    await until('the closed stream to unsubscribe', () => agent.feed.subscribers.size === 0);
  } finally {
    await app.close();
    socket.cleanup();
  }
});

test('a slow follower: the stream produces only when read, and says where and how many it missed', async () => {
  const subscribers = new Set<(item: ObservedItem) => void>();
  let produced = 0;
  const stream = new FollowStream({
    backlog: [{ flow: flow(1) }, { flow: flow(2) }],
    subscribe: (fn) => {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    line: (item) => {
      produced++;
      const l4 = item.kind === 'flow' ? item.flow.l4?.protocol : undefined;
      return JSON.stringify({ port: l4?.case === 'TCP' ? l4.value.sourcePort : undefined });
    },
    lostLine: (count) => JSON.stringify({ lost: count }),
    maxPending: 3,
  });
  assert.equal(produced, 0, 'nothing serialized before anyone reads');
  // the reader is away: 3 live items wait, the next 4 are counted, a later one waits after them
  const emit = (port: number) => {
    for (const fn of subscribers) fn({ kind: 'flow', flow: flow(port) });
  };
  for (const port of [10, 11, 12, 13, 14, 15, 16]) emit(port);
  const lines: unknown[] = [];
  stream.on('data', (chunk: string) => {
    for (const text of chunk.split('\n')) if (text !== '') lines.push(JSON.parse(text));
  });
  await until('the queued lines', () => lines.length === 6);
  emit(20);
  await until('the live line', () => lines.length === 7);
  assert.deepEqual(lines, [
    { port: 1 },
    { port: 2 },
    { port: 10 },
    { port: 11 },
    { port: 12 },
    { lost: 4 },
    { port: 20 },
  ]);
  stream.destroy();
  await once(stream, 'close');
  assert.equal(subscribers.size, 0);
});

test('agentRequest over a unix socket: typed answers, a JSON body, query options, errors with status and code', async () => {
  const agent = new FakeAgent();
  agent.feed.addFlows(4);
  const app = buildApp(agent);
  const socket = socketDir();
  try {
    await app.listen({ path: socket.path });
    const health: HealthResponse = await agentRequest(socket.path, 'GET', '/healthz');
    assert.equal(health.node, 'node1');
    assert.equal(health.wireguard.device.lastOutage?.seconds, 1.75);
    const flows: FlowsResponse = await agentRequest(socket.path, 'GET', '/v1/flows', { query: { last: 2 } });
    assert.equal(flows.flows.length, 2);
    const inPath = await agentRequest(socket.path, 'GET', '/v1/flows?last=3');
    assert.equal(inPath.flows.length, 3);
    const strict = await agentRequest(socket.path, 'POST', '/v1/datapath/strict', {
      body: { enabled: true },
    });
    assert.deepEqual(strict, { node: 'node1', strict: true });
    assert.equal(agent.strict, true);
    const rotated = await agentRequest(socket.path, 'POST', '/v1/encrypt/rotate-key');
    assert.equal(rotated.publicKey, 'pub1b=');

    const bad = await agentRequest(socket.path, 'GET', '/v1/flows', { query: { last: 'many' } }).catch(
      (err: unknown) => err,
    );
    assert.ok(bad instanceof AgentRequestError);
    assert.equal(bad.message, 'last "many" is not valid; accepted: an integer from 0 to 9999999');
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'BAD_REQUEST');
  } finally {
    await app.close();
    socket.cleanup();
  }
  await assert.rejects(agentRequest(socket.path, 'GET', '/healthz'), /^Error: agent at .* unreachable: /);
});

test('GET /v1/flows?last=N streams its JSON a chunk per turn of the loop: a large backlog leaves the agent answering meanwhile, and the body is the whole FlowsResponse', async () => {
  const agent = new FakeAgent();
  const added = agent.feed.addFlows(FLOWS_JSON_CHUNK * 40);
  const app = buildApp(agent);
  const socket = socketDir();
  try {
    await app.listen({ path: socket.path });
    let flowsDoneAt = 0;
    const big = agentRequest<FlowsResponse>(socket.path, 'GET', '/v1/flows', {
      query: { last: added.length },
    }).then((body) => {
      flowsDoneAt = performance.now();
      return body;
    });
    await sleep(5); // the listing has started
    const health: HealthResponse = await agentRequest(socket.path, 'GET', '/healthz');
    const healthAt = performance.now();
    assert.equal(health.node, 'node1');
    const body = await big;
    assert.ok(flowsDoneAt > healthAt, 'the health check was answered while the listing was being written');
    assert.equal(body.flows.length, added.length);
    const ports = body.flows.map(
      (f) => (f.flow as { l4?: { TCP?: { source_port?: number } } }).l4?.TCP?.source_port ?? 0,
    );
    assert.deepEqual(
      ports,
      added.map((f) => (f.l4?.protocol.case === 'TCP' ? f.l4.protocol.value.sourcePort : undefined)),
      'every flow, oldest first, none twice',
    );
    assert.equal(typeof body.counters.flowsSeen, 'number');
    const empty = await agentRequest<FlowsResponse>(socket.path, 'GET', '/v1/flows', { query: { last: 0 } });
    assert.deepEqual(empty.flows, []);
  } finally {
    await app.close();
    socket.cleanup();
  }
});
