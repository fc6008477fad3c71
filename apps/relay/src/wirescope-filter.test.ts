// Wirescope's filter fields pass through the relay to every agent untouched, so --last N with
// --peer or --mechanism is N matching flows per node, as Hubble's --last is N per node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import {
  FlowFilterExtensionSchema,
  Mechanism,
  encryptionOf,
  loadRecordedFlows,
  packFilterExtension,
  type Flow,
  type GetFlowsResponse,
} from '@wirescope/flow';
import { Observer, ObserverServer } from '@wirescope/observer';
import { collectFlows, testClient, waitFor } from '@wirescope/observer/testing';
import { PeerManager } from './peers.js';
import { Relay } from './relay.js';
import { RelayServer } from './server.js';

const flows = loadRecordedFlows();
const nodeNames = ['wst-node-1', 'wst-node-2', 'wst-node-3'];
let agents: ObserverServer[];
let peers: PeerManager;
let relayServer: RelayServer;
let client: grpc.Client;

before(async () => {
  agents = nodeNames.map((name) => {
    const observer = new Observer({ nodeName: name, capacity: 4095 });
    observer.pushBatch(flows.filter((f) => f.nodeName === name));
    return new ObserverServer({ observer, listen: ['127.0.0.1:0'] });
  });
  const addresses = await Promise.all(agents.map(async (a) => (await a.start())[0]!));
  peers = new PeerManager({ backoff: { initialMs: 200, maxMs: 1000 } });
  nodeNames.forEach((name, i) => peers.upsert({ name, address: addresses[i]! }));
  relayServer = new RelayServer({ relay: new Relay(peers), listen: ['127.0.0.1:0'] });
  const [relayAddress] = await relayServer.start();
  client = testClient(relayAddress!);
  await waitFor(() => peers.connected().length === 3, 5000, 'relay to connect to every agent');
});

after(async () => {
  client.close();
  peers.close();
  await relayServer.stop(100);
  await Promise.all(agents.map((a) => a.stop(100)));
});

const wirescope = (init: { peerNode?: string[]; mechanism?: Mechanism[] }) =>
  packFilterExtension(create(FlowFilterExtensionSchema, init));
const flowsOf = (rs: GetFlowsResponse[]) =>
  rs.flatMap((r) => (r.responseTypes.case === 'flow' ? [r.responseTypes.value] : []));
const uuids = (list: Flow[]) => list.map((f) => f.uuid).sort();

/** What `--last 2` plus `keep` must return: the last 2 matching flows of every node. */
const lastMatchingPerNode = (keep: (f: Flow) => boolean, n = 2) =>
  nodeNames.flatMap((name) => flows.filter((f) => f.nodeName === name && keep(f)).slice(-n));

test('--peer wst-node-2 --last 2 through the relay: 2 matching flows from each node that has them', async () => {
  const throughNode2 = (f: Flow) => encryptionOf(f)?.peerNode === 'wst-node-2';
  const got = flowsOf(
    await collectFlows(client, {
      number: 2n,
      whitelist: [{ extensions: wirescope({ peerNode: ['wst-node-2'] }) }],
    }),
  );
  const expected = lastMatchingPerNode(throughNode2);
  // wst-node-1 and wst-node-3 have flows through wst-node-2; wst-node-2 itself has none
  assert.deepEqual(
    nodeNames.map((n) => got.filter((f) => f.nodeName === n).length),
    [2, 0, 2],
  );
  assert.deepEqual(uuids(got), uuids(expected));
});

test('--mechanism wireguard --last 2 through the relay: 2 per node', async () => {
  const wg = (f: Flow) => encryptionOf(f)?.mechanism === Mechanism.WIREGUARD;
  const got = flowsOf(
    await collectFlows(client, {
      number: 2n,
      whitelist: [{ extensions: wirescope({ mechanism: [Mechanism.WIREGUARD] }) }],
    }),
  );
  assert.equal(got.length, 6);
  assert.ok(got.every(wg));
  assert.deepEqual(uuids(got), uuids(lastMatchingPerNode(wg)));
});

test('the relay refuses an invalid Wirescope filter itself, naming the field', async () => {
  await assert.rejects(
    collectFlows(client, { whitelist: [{ extensions: wirescope({ peerNode: [''] }) }] }),
    (err: grpc.ServiceError) =>
      err.code === grpc.status.INVALID_ARGUMENT &&
      err.details === 'whitelist[0].extensions.peer_node: empty node name',
  );
});
