// The local API in-process: every JSON route through app.inject() against a test double of the
// agent (success, the error shape, validation errors naming the field).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError, AgentErrorCode } from '../errors.js';
import { buildApp } from './app.js';
import { FakeAgent } from './fake-agent.test.js';

test('GET /healthz answers the health document whole', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^application\/json/);
  assert.ok(res.body.endsWith('}\n'), 'newline-terminated, as curl users saw it');
  assert.deepEqual(res.json(), JSON.parse(JSON.stringify(await agent.health())));
  await app.close();
});

test('GET /v1/encrypt and POST /v1/encrypt/rotate-key keep every field (peer without node, stale peer)', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const status = await app.inject({ method: 'GET', url: '/v1/encrypt' });
  assert.equal(status.statusCode, 200);
  assert.deepEqual(status.json(), JSON.parse(JSON.stringify(await agent.encryptStatus())));
  const rotated = await app.inject({ method: 'POST', url: '/v1/encrypt/rotate-key' });
  assert.equal(rotated.statusCode, 200);
  assert.deepEqual(rotated.json(), await agent.rotateKey());
  await app.close();
});

test('GET /v1/endpoints keeps labels, netns and identity (absent until allocated)', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const res = await app.inject({ method: 'GET', url: '/v1/endpoints' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), JSON.parse(JSON.stringify(await agent.endpoints())));
  await app.close();
});

test('GET /v1/flows: last defaults to 20, flows in proto JSON, counters', async () => {
  const agent = new FakeAgent();
  agent.feed.addFlows(25);
  const app = buildApp(agent);
  const res = await app.inject({ method: 'GET', url: '/v1/flows' });
  assert.equal(res.statusCode, 200);
  const body = res.json<{ flows: { flow: { node_name: string; verdict: string } }[]; counters: object }>();
  assert.equal(body.flows.length, 20);
  assert.equal(body.flows[0]?.flow.node_name, 'node1');
  assert.equal(body.flows[0]?.flow.verdict, 'FORWARDED');
  assert.deepEqual(body.counters, agent.feed.counters());
  const three = await app.inject({ method: 'GET', url: '/v1/flows?last=3' });
  assert.equal(three.json<{ flows: unknown[] }>().flows.length, 3);
  await app.close();
});

test('GET /v1/handshakes: last defaults to 100, handshakes in proto JSON', async () => {
  const agent = new FakeAgent();
  agent.feed.addHandshakes(2);
  const app = buildApp(agent);
  const res = await app.inject({ method: 'GET', url: '/v1/handshakes' });
  assert.equal(res.statusCode, 200);
  const body = res.json<{ handshakes: { handshake: { peer_node: string; message_type: string } }[] }>();
  assert.equal(body.handshakes.length, 2);
  assert.equal(body.handshakes[0]?.handshake.peer_node, 'node2');
  assert.equal(agent.feed.lastHandshakesAsked, 100);
  await app.close();
});

test('last that is not an integer from 0 to 9999999 is a 400 naming it, as before', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  for (const url of ['/v1/flows', '/v1/handshakes', '/v1/flows/follow']) {
    for (const bad of ['abc', '1e3', '-1', '12345678', '0x10']) {
      const res = await app.inject({ method: 'GET', url: `${url}?last=${bad}` });
      assert.equal(res.statusCode, 400, `${url}?last=${bad}`);
      assert.deepEqual(res.json(), {
        error: {
          code: 'BAD_REQUEST',
          message: `last "${bad}" is not valid; accepted: an integer from 0 to 9999999`,
        },
      });
    }
  }
  await app.close();
});

test('flow routes without a datapath are a 404 saying so', async () => {
  const agent = new FakeAgent();
  agent.datapathOff = true;
  const app = buildApp(agent);
  for (const url of ['/v1/flows', '/v1/handshakes', '/v1/flows/follow']) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
    assert.deepEqual(res.json(), {
      error: { code: 'NOT_FOUND', message: 'the eBPF datapath is off on this agent (--datapath off)' },
    });
  }
  await app.close();
});

test('GET /v1/datapath: loaded (every section kept) and off (node, mode, loaded, error only)', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const loaded = await app.inject({ method: 'GET', url: '/v1/datapath' });
  assert.equal(loaded.statusCode, 200);
  assert.deepEqual(loaded.json(), JSON.parse(JSON.stringify(agent.datapathStatus())));
  agent.statsError = 'map ws_stats: EPERM';
  assert.deepEqual(
    (await app.inject({ method: 'GET', url: '/v1/datapath' })).json<{ stats: unknown }>().stats,
    { error: 'map ws_stats: EPERM' },
  );
  agent.datapathOff = true;
  const off = await app.inject({ method: 'GET', url: '/v1/datapath' });
  assert.deepEqual(off.json(), { node: 'node1', loaded: false, mode: 'bpf', error: 'no BTF' });
  await app.close();
});

test('GET /v1/datapath/flow-counters', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const res = await app.inject({ method: 'GET', url: '/v1/datapath/flow-counters' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), agent.flowCounters());
  await app.close();
});

test('POST /v1/datapath/strict and /attach take {"enabled"|"attached": boolean}, whatever the content type', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const strict = await app.inject({ method: 'POST', url: '/v1/datapath/strict', payload: { enabled: true } });
  assert.equal(strict.statusCode, 200);
  assert.deepEqual(strict.json(), { node: 'node1', strict: true });
  assert.equal(agent.strict, true);
  // curl -d sends application/x-www-form-urlencoded; the body is JSON all the same
  const attach = await app.inject({
    method: 'POST',
    url: '/v1/datapath/attach',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: '{"attached":false}',
  });
  assert.equal(attach.statusCode, 200);
  assert.deepEqual(attach.json(), { node: 'node1', attached: false });
  assert.equal(agent.attached, false);
  await app.close();
});

test('a bad body is a 400 naming the field, the value and what is accepted; nothing changes', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const cases: [string, string | undefined, string][] = [
    [
      '/v1/datapath/strict',
      '{"enabled":"true"}',
      'body.enabled "true" is not valid; accepted: true or false',
    ],
    ['/v1/datapath/strict', '{"enabled":1}', 'body.enabled 1 is not valid; accepted: true or false'],
    ['/v1/datapath/strict', '{}', 'body.enabled is missing; accepted: true or false'],
    ['/v1/datapath/strict', undefined, 'body is missing; accepted: {"enabled": true|false}'],
    ['/v1/datapath/strict', '[true]', 'body [true] is not valid; accepted: {"enabled": true|false}'],
    ['/v1/datapath/attach', '{"attached":null}', 'body.attached null is not valid; accepted: true or false'],
    ['/v1/datapath/attach', '{attached: true}', 'request body is not JSON'],
  ];
  for (const [url, payload, message] of cases) {
    const res = await app.inject({
      method: 'POST',
      url,
      ...(payload === undefined ? {} : { payload, headers: { 'content-type': 'application/json' } }),
    });
    assert.equal(res.statusCode, 400, `${url} ${payload}`);
    assert.deepEqual(res.json(), { error: { code: 'BAD_REQUEST', message } }, `${url} ${payload}`);
  }
  assert.equal(agent.strict, false);
  assert.equal(agent.attached, true);
  await app.close();
});

test("the agent's errors keep their status codes and shape; others are a 500 COMMAND_FAILED", async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  agent.failWith = new AgentError(AgentErrorCode.STORE_UNAVAILABLE, 'etcd: connection refused');
  const unavailable = await app.inject({ method: 'POST', url: '/v1/encrypt/rotate-key' });
  assert.equal(unavailable.statusCode, 503);
  assert.deepEqual(unavailable.json(), {
    error: { code: 'STORE_UNAVAILABLE', message: 'etcd: connection refused' },
  });
  agent.failWith = new Error('wg: device busy');
  const failed = await app.inject({ method: 'GET', url: '/v1/encrypt' });
  assert.equal(failed.statusCode, 500);
  assert.deepEqual(failed.json(), { error: { code: 'COMMAND_FAILED', message: 'wg: device busy' } });
  agent.failWith = undefined;
  agent.datapathOff = true;
  const strictOff = await app.inject({
    method: 'POST',
    url: '/v1/datapath/strict',
    payload: { enabled: true },
  });
  assert.equal(strictOff.statusCode, 404);
  await app.close();
});

test('an unknown route (or method) is a 404 listing the accepted ones', async () => {
  const app = buildApp(new FakeAgent());
  for (const [method, url] of [
    ['GET', '/v1/nope?x=1'],
    ['POST', '/v1/encrypt'],
    ['HEAD', '/v1/flows/follow'],
  ] as const) {
    const res = await app.inject({ method, url });
    assert.equal(res.statusCode, 404, `${method} ${url}`);
    if (method === 'HEAD') continue;
    const { error } = res.json<{ error: { code: string; message: string } }>();
    assert.equal(error.code, 'NOT_FOUND');
    assert.equal(
      error.message,
      `no route ${method} ${url.split('?')[0]}; accepted: GET /healthz, GET /v1/encrypt, ` +
        'POST /v1/encrypt/rotate-key, GET /v1/endpoints, GET /v1/flows, GET /v1/handshakes, ' +
        'GET /v1/flows/follow, GET /v1/datapath, GET /v1/datapath/flow-counters, ' +
        'POST /v1/datapath/strict, POST /v1/datapath/attach, GET /v1/policy, POST /v1/policy/audit',
    );
  }
  await app.close();
});

test('GET /v1/policy and POST /v1/policy/audit: status whole; a bad endpoint name or value is a 400', async () => {
  const agent = new FakeAgent();
  const app = buildApp(agent);
  const status = await app.inject({ method: 'GET', url: '/v1/policy' });
  assert.equal(status.statusCode, 200);
  assert.deepEqual(status.json(), agent.policyStatus());
  const on = await app.inject({
    method: 'POST',
    url: '/v1/policy/audit',
    payload: { enabled: true, endpoint: 'shop/api' },
  });
  assert.deepEqual(on.json(), { node: 'node1', auditMode: false, auditEndpoints: ['shop/api'] });
  const bad = await app.inject({
    method: 'POST',
    url: '/v1/policy/audit',
    payload: { enabled: true, endpoint: 'api' },
  });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error.message, /endpoint/);
  const notBool = await app.inject({ method: 'POST', url: '/v1/policy/audit', payload: { enabled: 'yes' } });
  assert.equal(notBool.statusCode, 400);
  await app.close();
});
