import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdClusterStore } from './etcd.js';
import { nodeRecord } from './node-fixture.test.js';

// A real etcd on loopback (the root namespace never talks to lab addresses; 127.0.0.1 is fine).
let etcd: ChildProcess;
let dataDir: string;
let endpoint: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

before(async () => {
  dataDir = mkdtempSync('/tmp/wsl-etcd-unit-');
  const clientPort = await freePort();
  const peerPort = await freePort();
  endpoint = `http://127.0.0.1:${clientPort}`;
  etcd = spawn(
    'etcd',
    [
      '--name',
      'wsl-unit',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `wsl-unit=http://127.0.0.1:${peerPort}`,
    ],
    { stdio: 'ignore' },
  );
  const probe = new EtcdClusterStore({ endpoints: [endpoint], callTimeoutMs: 500 });
  for (let i = 0; ; i++) {
    try {
      await probe.ping();
      break;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }
  await probe.close();
});

after(() => {
  etcd.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

const node = nodeRecord;

test('nodes register with a liveness lease, are listed, and a watch sees a deletion', async () => {
  const a = new EtcdClusterStore({ endpoints: [endpoint], leaseTTLSeconds: 5 });
  const b = new EtcdClusterStore({ endpoints: [endpoint], leaseTTLSeconds: 5 });
  await a.registerNode(node('na', 1));
  await b.registerNode(node('nb', 2));
  let changes = 0;
  const unwatch = a.watchNodes(() => changes++);
  await sleep(300);
  const names = (await a.listNodes()).map((n) => n.name).sort();
  assert.deepEqual(
    names.filter((n) => n === 'na' || n === 'nb'),
    ['na', 'nb'],
  );
  const before = changes;
  await a.deleteNode('nb');
  for (let i = 0; i < 50 && changes === before; i++) await sleep(50);
  assert.ok(changes > before, 'watch reported the deletion');
  assert.ok(!(await a.listNodes()).some((n) => n.name === 'nb'));
  // The deleted node notices and republishes itself (what its resync loop does).
  assert.equal(await b.ensureRegistered(), true);
  assert.ok((await a.listNodes()).some((n) => n.name === 'nb'));
  assert.equal(await b.ensureRegistered(), false, 'nothing to do when the record is intact');
  unwatch();
  await a.close();
  await b.close();
});

test('identities: same labels get the same id from racing clients, different labels differ, reserved are fixed', async () => {
  const clients = [0, 1, 2].map(() => new EtcdClusterStore({ endpoints: [endpoint] }));
  const labels = { 'k8s:app': 'api', 'k8s:io.kubernetes.pod.namespace': 'shop' };
  const reordered = { 'k8s:io.kubernetes.pod.namespace': 'shop', 'k8s:app': 'api' };
  const ids = await Promise.all(clients.map((c, i) => c.allocateIdentity(i === 1 ? reordered : labels)));
  assert.equal(new Set(ids).size, 1, `one id for one label set, got ${ids.join(',')}`);
  assert.ok((ids[0] ?? 0) >= 256);
  const others = await Promise.all(clients.map((c, i) => c.allocateIdentity({ 'k8s:app': `svc${i}` })));
  assert.equal(
    new Set([...others, ids[0]]).size,
    4,
    'distinct label sets get distinct ids even when allocated concurrently',
  );
  assert.equal(await clients[0]?.allocateIdentity({ 'reserved:world': '' }), 2);
  assert.equal(await clients[2]?.allocateIdentity(labels), ids[0], 'stable on re-ask');
  await Promise.all(clients.map((c) => c.close()));
});

test('a lapsed lease makes a node not alive but keeps it a member; only a delete removes it', async () => {
  const a = new EtcdClusterStore({ endpoints: [endpoint], leaseTTLSeconds: 5 });
  const b = new EtcdClusterStore({ endpoints: [endpoint], leaseTTLSeconds: 2 });
  await b.registerNode(node('nlapse', 4));
  assert.ok((await a.liveNodeNames()).has('nlapse'));
  let changes = 0;
  const unwatch = a.watchNodes(() => changes++);
  await sleep(200);
  await b.close(); // the agent dies: nobody renews its lease
  for (let i = 0; i < 100 && (await a.liveNodeNames()).has('nlapse'); i++) await sleep(100);
  assert.ok(!(await a.liveNodeNames()).has('nlapse'), 'liveness lapsed with the lease');
  assert.ok(changes > 0, 'watchers hear of the lapse');
  assert.ok(
    (await a.listNodes()).some((n) => n.name === 'nlapse'),
    'still a member',
  );
  await a.deleteNode('nlapse');
  assert.ok(!(await a.listNodes()).some((n) => n.name === 'nlapse'));
  unwatch();
  await a.close();
});

test('endpoints round-trip through the store', async () => {
  const store = new EtcdClusterStore({ endpoints: [endpoint] });
  await store.putEndpoint({
    namespace: 'shop',
    pod: 'api',
    node: 'n2',
    ip: '10.244.2.10',
    interface: 'lxc1234abcd',
    labels: { app: 'api' },
  });
  const found = (await store.listEndpoints()).find((e) => e.pod === 'api');
  assert.equal(found?.ip, '10.244.2.10');
  await store.deleteEndpoint('shop', 'api');
  assert.equal(
    (await store.listEndpoints()).find((e) => e.pod === 'api'),
    undefined,
  );
  await store.close();
});

test('an unreachable etcd fails calls quickly instead of hanging', async () => {
  const store = new EtcdClusterStore({
    endpoints: [`http://127.0.0.1:${await freePort()}`],
    callTimeoutMs: 300,
  });
  await assert.rejects(store.listNodes());
  await store.close();
});
