import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import {
  GetFlowsRequestSchema,
  NodeState,
  loadRecordedFlows,
  type Flow,
  type GetFlowsResponse,
} from '@wirescope/flow';
import {
  Observer,
  ObserverServer,
  clientCredentials,
  methods,
  serverStream,
  unary,
} from '@wirescope/observer';
import { checkHealth, collectFlows, makeTestPki, testClient, waitFor } from '@wirescope/observer/testing';
import { PeerManager } from './peers.js';
import { Relay } from './relay.js';
import { RelayServer } from './server.js';

const flows = loadRecordedFlows();
const nodeNames = ['wst-node-1', 'wst-node-2', 'wst-node-3'];

interface Agent {
  name: string;
  observer: Observer;
  server: ObserverServer;
  address: string;
}

async function startAgent(name: string, address = '127.0.0.1:0', observer?: Observer): Promise<Agent> {
  const o = observer ?? new Observer({ nodeName: name, capacity: 4095 });
  if (!observer) o.pushBatch(flows.filter((f) => f.nodeName === name));
  const server = new ObserverServer({ observer: o, listen: [address] });
  const [bound] = await server.start();
  return { name, observer: o, server, address: bound! };
}

let agents: Agent[];
let peers: PeerManager;
let relayServer: RelayServer;
let client: grpc.Client;
let relayAddress: string;
const socket = `/tmp/wst3-relay-${process.pid}.sock`;

before(async () => {
  agents = await Promise.all(nodeNames.map((n) => startAgent(n)));
  peers = new PeerManager({ backoff: { initialMs: 200, maxMs: 1000 } });
  for (const a of agents) peers.upsert({ name: a.name, address: a.address });
  relayServer = new RelayServer({ relay: new Relay(peers), listen: ['127.0.0.1:0', `unix://${socket}`] });
  [relayAddress] = (await relayServer.start()) as [string];
  client = testClient(relayAddress);
  await waitFor(() => peers.connected().length === 3, 5000, 'relay to connect to every agent');
});

after(async () => {
  client.close();
  peers.close();
  await relayServer.stop(100);
  await Promise.all(agents.map((a) => a.server.stop(100)));
  rmSync(socket, { force: true });
});

const flowsOf = (rs: GetFlowsResponse[]) =>
  rs.flatMap((r) => (r.responseTypes.case === 'flow' ? [r.responseTypes.value] : []));
const micros = (f: Flow) => Number(f.time!.seconds) * 1e6 + f.time!.nanos / 1000;

test('GetFlows through the relay merges every node in time order', async () => {
  const got = await collectFlows(client, {});
  const status = got[0]!.responseTypes;
  assert.equal(status.case, 'nodeStatus');
  assert.equal(status.case === 'nodeStatus' && status.value.stateChange, NodeState.NODE_CONNECTED);
  assert.deepEqual(status.case === 'nodeStatus' && [...status.value.nodeNames].sort(), nodeNames);
  const merged = flowsOf(got);
  assert.equal(merged.length, flows.length);
  for (let i = 1; i < merged.length; i++)
    assert.ok(micros(merged[i - 1]!) <= micros(merged[i]!), `order at ${i}`);
  assert.deepEqual(new Set(merged.map((f) => f.uuid)), new Set(flows.map((f) => f.uuid)));
});

test('--last N is N per node, merged; filters are applied by the agents', async () => {
  const last = flowsOf(await collectFlows(client, { number: 2n }));
  assert.equal(last.length, 6);
  for (const n of nodeNames) {
    const expected = flows
      .filter((f) => f.nodeName === n)
      .slice(-2)
      .map((f) => f.uuid);
    assert.deepEqual(
      last.filter((f) => f.nodeName === n).map((f) => f.uuid),
      expected,
    );
  }
  for (let i = 1; i < last.length; i++) assert.ok(micros(last[i - 1]!) <= micros(last[i]!));
  const crossNode = flowsOf(
    await collectFlows(client, {
      whitelist: [{ sourcePod: ['default/client-'], destinationPod: ['default/server-'], encrypted: [true] }],
    }),
  );
  assert.ok(crossNode.length > 0);
  assert.deepEqual(new Set(crossNode.map((f) => f.nodeName)), new Set(['wst-node-1', 'wst-node-2']));
});

test('the relay answers INVALID_ARGUMENT for bad requests', async () => {
  await assert.rejects(
    collectFlows(client, { whitelist: [{ sourceIp: ['nope'] }] }),
    (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /whitelist\[0\]\.source_ip: "nope" is not an IP/);
      return true;
    },
  );
});

test('ServerStatus and GetNodes aggregate every node (also over the unix socket)', async () => {
  const unixClient = testClient(`unix://${socket}`);
  const st = await unary(unixClient, methods.observer.serverStatus, {});
  assert.equal(st.numConnectedNodes, 3);
  assert.equal(st.numUnavailableNodes, 0);
  assert.equal(st.numFlows, BigInt(flows.length));
  assert.equal(st.maxFlows, 3n * 4095n);
  const nodes = await unary(unixClient, methods.observer.getNodes, {});
  assert.deepEqual(
    nodes.nodes.map((n) => [n.name, n.state]),
    nodeNames.map((n) => [n, NodeState.NODE_CONNECTED]),
  );
  unixClient.close();
});

test('stopping an agent makes the relay report it unavailable within 5 s; restarting reconnects', async () => {
  const received: GetFlowsResponse[] = [];
  const call = serverStream(
    client,
    methods.observer.getFlows,
    create(GetFlowsRequestSchema, { follow: true }),
  );
  call.on('data', (r: GetFlowsResponse) => received.push(r));
  call.on('error', () => {});
  await waitFor(() => received.length > 0, 5000, 'first status');
  const victim = agents[2]!;
  const stoppedAt = Date.now();
  await victim.server.stop(50);
  const isState = (r: GetFlowsResponse, s: NodeState) =>
    r.responseTypes.case === 'nodeStatus' &&
    r.responseTypes.value.stateChange === s &&
    r.responseTypes.value.nodeNames.includes(victim.name);
  await waitFor(() => received.some((r) => isState(r, NodeState.NODE_UNAVAILABLE)), 5000, 'NODE_UNAVAILABLE');
  assert.ok(Date.now() - stoppedAt < 5000);
  const st = await unary(client, methods.observer.serverStatus, {});
  assert.equal(st.numUnavailableNodes, 1);
  assert.deepEqual(st.unavailableNodes, [victim.name]);

  // Same node, same address, same ring: as an agent restarting would.
  agents[2] = await startAgent(victim.name, victim.address, victim.observer);
  await waitFor(
    () => received.some((r) => isState(r, NodeState.NODE_CONNECTED) && received.indexOf(r) > 0),
    10000,
    'NODE_CONNECTED again',
  );
  const fresh = { ...flows.find((f) => f.nodeName === victim.name)!, uuid: 'after-restart' };
  fresh.time = { ...fresh.time!, seconds: BigInt(Math.floor(Date.now() / 1000)) };
  agents[2]!.observer.push(fresh);
  await waitFor(
    () => flowsOf(received).some((f) => f.uuid === 'after-restart'),
    5000,
    'a flow from the restarted agent',
  );
  call.cancel();
  await waitFor(() => peers.connected().length === 3, 5000, 'all connected');
});

test('discovery moves on to the next Peer.Notify address when one agent is unreachable', async () => {
  const o = new Observer({ nodeName: 'node-b' });
  const server = new ObserverServer({ observer: o, listen: ['127.0.0.1:0'] });
  const [alive] = await server.start();
  server.peers.set({ name: 'node-b', address: alive! });
  // a port nothing listens on: bound then closed, so the first address refuses at once
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const peers = new PeerManager({ backoff: { initialMs: 50, maxMs: 200 } });
  try {
    peers.discover([`127.0.0.1:${deadPort}`, alive!]);
    await waitFor(() => peers.connected().length === 1, 10000, 'peer discovered through the second address');
    assert.equal(peers.discoveryAddress, alive);
    assert.deepEqual(
      peers.connected().map((p) => p.name),
      ['node-b'],
    );
  } finally {
    peers.close();
    await server.stop();
  }
});

test('discovery through Peer.Notify and mutual TLS toward agents and clients', async () => {
  const pki = makeTestPki();
  const serverTls = { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca };
  const tlsAgents: ObserverServer[] = [];
  const addresses: string[] = [];
  for (const name of nodeNames) {
    const o = new Observer({ nodeName: name, tls: true });
    o.pushBatch(flows.filter((f) => f.nodeName === name).slice(0, 3));
    const s = new ObserverServer({ observer: o, listen: ['127.0.0.1:0'], tls: serverTls });
    const [addr] = await s.start();
    tlsAgents.push(s);
    addresses.push(addr!);
  }
  nodeNames.forEach((name, i) =>
    tlsAgents[0]!.peers.set({ name, address: addresses[i]!, tlsServerName: `${name}.agent.wirescope.local` }),
  );
  const peerTls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
  const tlsPeers = new PeerManager({ tls: peerTls });
  tlsPeers.discover(addresses[0]!, { ...peerTls, serverName: 'localhost' });
  const tlsRelay = new RelayServer({ relay: new Relay(tlsPeers), listen: ['127.0.0.1:0'], tls: serverTls });
  const [relayAddr] = await tlsRelay.start();
  await waitFor(() => tlsPeers.connected().length === 3, 10000, 'TLS peers discovered and connected');
  const port = relayAddr!.split(':').at(-1);
  const tlsClient = testClient(`localhost:${port}`, clientCredentials(peerTls));
  const got = flowsOf(await collectFlows(tlsClient, {}));
  assert.equal(got.length, 9);
  const plain = testClient(`127.0.0.1:${port}`);
  await assert.rejects(
    collectFlows(plain, {}),
    (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE,
  );
  tlsClient.close();
  plain.close();
  tlsPeers.close();
  await tlsRelay.stop(50);
  await Promise.all(tlsAgents.map((s) => s.stop(50)));
  rmSync(pki.dir, { recursive: true, force: true });
});

test('grpc.health.v1 on the relay: NOT_SERVING without a connected node, SERVING with one, NOT_SERVING when it goes', async () => {
  const agent = await startAgent('wst-node-9');
  const own = new PeerManager({ backoff: { initialMs: 100, maxMs: 200 } });
  const server = new RelayServer({ relay: new Relay(own), listen: ['127.0.0.1:0'] });
  const [addr] = await server.start();
  const status = () => checkHealth(addr!, 'hubble.server.Observer');
  try {
    assert.equal(await status(), 'NOT_SERVING');
    assert.equal(await checkHealth(addr!, ''), 'NOT_SERVING');
    own.upsert({ name: agent.name, address: agent.address });
    await waitFor(() => own.connected().length === 1, 5000, 'relay to connect to the agent');
    for (const service of ['hubble.server.Observer', 'observer.Observer', ''])
      assert.equal(await checkHealth(addr!, service), 'SERVING', service);
    own.remove(agent.name);
    assert.equal(await status(), 'NOT_SERVING');
  } finally {
    own.close();
    await server.stop(100);
    await agent.server.stop(100);
  }
});

test('grpc.health.v1 of the shared relay: SERVING with its three nodes, over TCP and the unix socket', async () => {
  assert.equal(await checkHealth(relayAddress, 'hubble.server.Observer'), 'SERVING');
  assert.equal(await checkHealth(`unix://${socket}`, 'hubble.server.Observer'), 'SERVING');
});
