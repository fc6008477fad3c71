// An agent without Wirescope's batch stream (stock Hubble serves Observer only): the relay falls
// back to GetFlows for that agent and still merges it with agents read through GetFlowBatches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import {
  GetFlowsRequestSchema,
  loadRecordedFlows,
  type Flow,
  type GetFlowsRequest,
  type GetFlowsResponse,
} from '@wirescope/flow';
import {
  Observer,
  ObserverServer,
  grpcSink,
  methods,
  observerService,
  serverStream,
  serviceDefinition,
  toStatusError,
} from '@wirescope/observer';
import { collectFlows, testClient, waitFor } from '@wirescope/observer/testing';
import { PeerManager } from './peers.js';
import { Relay } from './relay.js';
import { RelayServer } from './server.js';

const flows = loadRecordedFlows();

/** An Observer-only gRPC server, as a stock Hubble agent is: no Wirescope service at all. */
async function startStockAgent(
  observer: Observer,
): Promise<{ address: string; getFlowsCalls: () => number; stop(): void }> {
  const server = new grpc.Server();
  let calls = 0;
  server.addService(serviceDefinition(observerService, { rawResponses: ['GetFlows'] }), {
    GetFlows: (call: grpc.ServerWritableStream<GetFlowsRequest, Uint8Array>) => {
      calls++;
      observer
        .getFlows(call.request, grpcSink(call))
        .catch((err: unknown) => call.emit('error', toStatusError(err)));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, getFlowsCalls: () => calls, stop: () => server.forceShutdown() };
}

const flowsOf = (rs: GetFlowsResponse[]) =>
  rs.flatMap((r) => (r.responseTypes.case === 'flow' ? [r.responseTypes.value] : []));
const micros = (f: Flow) => Number(f.time!.seconds) * 1e6 + f.time!.nanos / 1000;

test('a stock agent answering UNIMPLEMENTED is read through GetFlows, the others through batches', async () => {
  const [name1, name2] = ['wst-node-1', 'wst-node-2'];
  const wirescopeObserver = new Observer({ nodeName: name1, capacity: 4095 });
  wirescopeObserver.pushBatch(flows.filter((f) => f.nodeName === name1));
  const stockObserver = new Observer({ nodeName: name2, capacity: 4095 });
  stockObserver.pushBatch(flows.filter((f) => f.nodeName === name2));
  const wirescopeAgent = new ObserverServer({
    observer: wirescopeObserver,
    listen: ['127.0.0.1:0'],
    flowBatchLimits: { maxResponses: 5, maxBytes: 1 << 20 },
  });
  const [wirescopeAddress] = await wirescopeAgent.start();
  const stock = await startStockAgent(stockObserver);

  const peers = new PeerManager({ backoff: { initialMs: 200, maxMs: 1000 } });
  peers.upsert({ name: name1, address: wirescopeAddress! });
  peers.upsert({ name: name2, address: stock.address });
  const relay = new Relay(peers);
  const relayServer = new RelayServer({ relay, listen: ['127.0.0.1:0'] });
  const [relayAddress] = await relayServer.start();
  const client = testClient(relayAddress!);
  try {
    await waitFor(() => peers.connected().length === 2, 5000, 'relay to connect to both agents');
    const expected = flows.filter((f) => f.nodeName === name1 || f.nodeName === name2);
    assert.ok(
      expected.some((f) => f.nodeName === name1) && expected.some((f) => f.nodeName === name2),
      'fixture has flows of both nodes',
    );

    const got = flowsOf(await collectFlows(client, {}));
    assert.equal(got.length, expected.length);
    assert.deepEqual(new Set(got.map((f) => f.uuid)), new Set(expected.map((f) => f.uuid)));
    for (let i = 1; i < got.length; i++)
      assert.ok(micros(got[i - 1]!) <= micros(got[i]!), 'merged in time order');
    assert.equal(stock.getFlowsCalls(), 1, 'the stock agent was asked through GetFlows after UNIMPLEMENTED');
    const byName = new Map(peers.connected().map((p) => [p.name, p]));
    assert.equal(relay.readsBatches(byName.get(name1)!), true);
    assert.equal(relay.readsBatches(byName.get(name2)!), false);

    // the fallback is remembered: the next call goes straight to GetFlows, with the same request
    const lastTwo = flowsOf(await collectFlows(client, { number: 2n }));
    assert.equal(stock.getFlowsCalls(), 2);
    assert.equal(lastTwo.length, 4, 'two per node');
    for (const n of [name1, name2]) {
      assert.deepEqual(
        lastTwo.filter((f) => f.nodeName === n).map((f) => f.uuid),
        expected
          .filter((f) => f.nodeName === n)
          .slice(-2)
          .map((f) => f.uuid),
      );
    }

    // follow: live flows of both agents come through
    const live: GetFlowsResponse[] = [];
    const call = serverStream(
      client,
      methods.observer.getFlows,
      create(GetFlowsRequestSchema, { follow: true }),
    );
    call.on('data', (r: GetFlowsResponse) => live.push(r));
    call.on('error', () => {});
    await waitFor(
      () => wirescopeObserver.activeStreams === 1 && stockObserver.activeStreams === 1,
      5000,
      'both agents followed',
    );
    wirescopeObserver.push({ ...expected.find((f) => f.nodeName === name1)!, uuid: 'live-1' });
    stockObserver.push({ ...expected.find((f) => f.nodeName === name2)!, uuid: 'live-2' });
    await waitFor(() => flowsOf(live).length === 2, 5000, 'live flows of both agents');
    assert.deepEqual(new Set(flowsOf(live).map((f) => f.uuid)), new Set(['live-1', 'live-2']));
    call.cancel();
  } finally {
    client.close();
    peers.close();
    await relayServer.stop(100);
    await wirescopeAgent.stop(100);
    stock.stop();
  }
});
