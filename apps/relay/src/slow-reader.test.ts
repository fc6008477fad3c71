// Non-follow requests through the relay end exactly once, whatever the client's pace: a reader
// that pushes back on every write (the stock CLI printing to a terminal, or a pipe) once left
// `--last N`, `--all` and `--first N` hanging after their last flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary } from '@bufbuild/protobuf';
import {
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  loadRecordedFlows,
  type GetFlowsRequest,
} from '@wirescope/flow';
import { Observer, ObserverServer, type FlowSink } from '@wirescope/observer';
import { waitFor } from '@wirescope/observer/testing';
import { PeerManager } from './peers.js';
import { Relay } from './relay.js';

const flows = loadRecordedFlows();
const nodeNames = [...new Set(flows.map((f) => f.nodeName))];
let servers: ObserverServer[];
let peers: PeerManager;

before(async () => {
  servers = [];
  peers = new PeerManager({ backoff: { initialMs: 200, maxMs: 1000 } });
  for (const name of nodeNames) {
    const observer = new Observer({ nodeName: name, capacity: 4095 });
    observer.pushBatch(flows.filter((f) => f.nodeName === name));
    const server = new ObserverServer({ observer, listen: ['127.0.0.1:0'] });
    const [address] = await server.start();
    servers.push(server);
    peers.upsert({ name, address: address! });
  }
  await waitFor(() => peers.connected().length === nodeNames.length, 5000, 'relay to connect to every agent');
});

after(async () => {
  peers.close();
  await Promise.all(servers.map((s) => s.stop(100)));
});

/** A client that is always behind: every write fills its buffer; it drains a millisecond later. */
function slowSink(): FlowSink & { flows: number; ends: number; ended: Promise<void> } {
  let resolveEnded: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  const sink = {
    flows: 0,
    ends: 0,
    ended,
    cancelled: false,
    write(bytes: Uint8Array): boolean {
      const response = fromBinary(GetFlowsResponseSchema, bytes);
      if (response.responseTypes.case === 'flow') sink.flows++;
      return false;
    },
    onDrain(listener: () => void): void {
      setTimeout(listener, 1);
    },
    onCancel(): void {},
    end(): void {
      sink.ends++;
      resolveEnded();
    },
  };
  return sink;
}

async function throughSlowReader(
  request: Partial<GetFlowsRequest>,
): Promise<{ flows: number; ends: number }> {
  const relay = new Relay(peers);
  const sink = slowSink();
  await relay.getFlows(create(GetFlowsRequestSchema, request), sink);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`the relay never ended ${JSON.stringify(request)}`)), 10_000).unref(),
  );
  await Promise.race([sink.ended, timeout]);
  await new Promise((resolve) => setTimeout(resolve, 20)); // a second end() would land here
  return { flows: sink.flows, ends: sink.ends };
}

const perNode = (n: number) =>
  nodeNames.reduce((sum, name) => sum + Math.min(n, flows.filter((f) => f.nodeName === name).length), 0);

test('--last 1000 with a slow reader: every flow, then the end, once', async () => {
  assert.deepEqual(await throughSlowReader({ number: 1000n }), { flows: perNode(1000), ends: 1 });
});

test('--all with a slow reader: every flow, then the end, once', async () => {
  assert.deepEqual(await throughSlowReader({}), { flows: flows.length, ends: 1 });
});

test('--first 5 with a slow reader: five per node, then the end, once', async () => {
  assert.deepEqual(await throughSlowReader({ number: 5n, first: true }), { flows: perNode(5), ends: 1 });
});
