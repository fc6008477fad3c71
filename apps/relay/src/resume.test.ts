// A follower that resumes at a relay which has just restarted asks for flows since its last one;
// the relay reaches its agents only afterwards, and each of them must still answer that `since`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { GetFlowsRequestSchema, loadRecordedFlows, type Flow, type GetFlowsResponse } from '@wirescope/flow';
import { Observer, ObserverServer, methods, serverStream } from '@wirescope/observer';
import { testClient, waitFor } from '@wirescope/observer/testing';
import { PeerManager } from './peers.js';
import { Relay } from './relay.js';
import { RelayServer } from './server.js';

const base = Date.UTC(2026, 10, 21, 11, 0, 0);
const template = loadRecordedFlows()[0]!;
const flowAt = (node: string, uuid: string, ms: number): Flow => ({
  ...template,
  nodeName: node,
  uuid,
  time: timestampFromMs(base + ms),
});

test('a node the relay reaches after a follow request with since began answers that since', async () => {
  const agents = ['wst-node-1', 'wst-node-2'].map((name) => {
    const observer = new Observer({ nodeName: name, capacity: 63 });
    for (const ms of [0, 100, 200]) observer.push(flowAt(name, `${name}@${ms}`, ms));
    return { name, observer, server: new ObserverServer({ observer, listen: ['127.0.0.1:0'] }) };
  });
  const addresses = await Promise.all(agents.map(async (a) => (await a.server.start())[0]!));
  const peers = new PeerManager({ backoff: { initialMs: 100, maxMs: 200 } });
  const relay = new RelayServer({ relay: new Relay(peers), listen: ['127.0.0.1:0'] });
  const [relayAddress] = await relay.start();
  const client = testClient(relayAddress!);
  const received: GetFlowsResponse[] = [];
  const call = serverStream(
    client,
    methods.observer.getFlows,
    create(GetFlowsRequestSchema, { follow: true, since: timestampFromMs(base + 100) }),
  );
  call.on('data', (r: GetFlowsResponse) => received.push(r));
  call.on('error', () => {});
  const shown = () =>
    received.flatMap((r) => (r.responseTypes.case === 'flow' ? [r.responseTypes.value.uuid] : [])).sort();
  try {
    // the relay knew no agent when the request came (just restarted); they appear one by one
    peers.upsert({ name: 'wst-node-1', address: addresses[0]! });
    await waitFor(() => shown().length === 2, 5000, "wst-node-1's flows since");
    peers.upsert({ name: 'wst-node-2', address: addresses[1]! });
    await waitFor(() => shown().length === 4, 5000, "wst-node-2's flows since");
    assert.deepEqual(shown(), ['wst-node-1@100', 'wst-node-1@200', 'wst-node-2@100', 'wst-node-2@200']);
  } finally {
    call.cancel();
    client.close();
    peers.close();
    await relay.stop(50);
    await Promise.all(agents.map((a) => a.server.stop(50)));
  }
});
