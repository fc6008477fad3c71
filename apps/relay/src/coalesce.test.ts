// The relay writes many GetFlows messages per HTTP/2 write: each must still arrive as its own
// GetFlowsResponse, complete and in order, including bursts far over one write's size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  loadRecordedFlows,
  responseKind,
} from '@wirescope/flow';
import { Observer, ObserverServer, RawServerStream } from '@wirescope/observer';
import { testClient, waitFor } from '@wirescope/observer/testing';
import { PeerManager } from './peers.js';
import { Relay } from './relay.js';
import { RelayServer } from './server.js';

const flows = loadRecordedFlows();

test('a burst of live flows through the relay arrives as one GetFlowsResponse per flow, none lost or cut', async () => {
  const names = ['wst-node-1', 'wst-node-2'];
  const observers = names.map((n) => new Observer({ nodeName: n, capacity: 65535, clientQueue: 65536 }));
  const agents = observers.map((observer) => new ObserverServer({ observer, listen: ['127.0.0.1:0'] }));
  const addresses = await Promise.all(agents.map(async (a) => (await a.start())[0]!));
  const peers = new PeerManager({ backoff: { initialMs: 200, maxMs: 1000 } });
  names.forEach((name, i) => peers.upsert({ name, address: addresses[i]! }));
  const relayServer = new RelayServer({ relay: new Relay(peers), listen: ['127.0.0.1:0'] });
  const [relayAddress] = await relayServer.start();
  const client = testClient(relayAddress!);
  try {
    await waitFor(() => peers.connected().length === 2, 5000, 'relay to connect to both agents');
    const received = new Map<string, string[]>(names.map((n) => [n, []]));
    let statuses = 0;
    const request = toBinary(GetFlowsRequestSchema, create(GetFlowsRequestSchema, { follow: true }));
    const call = new RawServerStream(client, '/observer.Observer/GetFlows', request, {
      onMessage: (bytes) => {
        // every message decodes on its own: a message cut or glued to the next would not
        const r = fromBinary(GetFlowsResponseSchema, bytes);
        if (responseKind(bytes) !== 1) {
          statuses++;
          return;
        }
        if (r.responseTypes.case === 'flow') received.get(r.nodeName)!.push(r.responseTypes.value.uuid);
      },
      onStatus: () => {},
    });
    await waitFor(() => observers.every((o) => o.activeStreams === 1), 5000, 'both agents followed');
    const perNode = 20_000;
    const sent = new Map<string, string[]>(names.map((n) => [n, []]));
    for (let i = 0; i < perNode; i += 500) {
      observers.forEach((o, k) => {
        for (let j = i; j < i + 500; j++) {
          const uuid = `${names[k]}-${j}`;
          o.push({ ...flows[j % flows.length]!, uuid, nodeName: names[k]! });
          sent.get(names[k]!)!.push(uuid);
        }
      });
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(
      () => names.every((n) => received.get(n)!.length === perNode),
      20_000,
      'every flow of the burst',
    );
    for (const n of names)
      assert.deepEqual(received.get(n), sent.get(n), `flows of ${n} complete and in order`);
    assert.ok(statuses >= 1, 'the node status that opens the stream');
    assert.equal(
      observers.reduce((s, o) => s + o.lostEvents, 0),
      0,
    );
    call.cancel();
  } finally {
    client.close();
    peers.close();
    await relayServer.stop(100);
    await Promise.all(agents.map((a) => a.stop(100)));
  }
});
