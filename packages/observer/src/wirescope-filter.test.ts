// Wirescope's filter fields (--peer, --mechanism) are served by the observer, so --last N counts
// matching flows (issue 10 item 5: filtering after --last returned 0 flows for --peer).
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
import { Observer } from './observer.js';
import { ObserverServer } from './server.js';
import { collectFlows, testClient } from './testing.js';

const flows = loadRecordedFlows().filter((f) => f.nodeName === 'wst-node-1');
let server: ObserverServer;
let client: grpc.Client;

before(async () => {
  const observer = new Observer({ nodeName: 'wst-node-1', capacity: 4095 });
  observer.pushBatch(flows);
  server = new ObserverServer({ observer, listen: ['127.0.0.1:0'] });
  const [address] = await server.start();
  client = testClient(address!);
});

after(async () => {
  client.close();
  await server.stop(100);
});

const wirescope = (init: { peerNode?: string[]; mechanism?: Mechanism[] }) =>
  packFilterExtension(create(FlowFilterExtensionSchema, init));
const flowsOf = (rs: GetFlowsResponse[]) =>
  rs.flatMap((r) => (r.responseTypes.case === 'flow' ? [r.responseTypes.value] : []));
const uuids = (list: Flow[]) => list.map((f) => f.uuid);

test('--peer --last 2 is the last 2 flows through that peer, not the last 2 flows filtered', async () => {
  // the recording's last 2 wst-node-1 flows are not to wst-node-3: filtering after --last gave 0
  assert.ok(flows.slice(-2).every((f) => encryptionOf(f)?.peerNode !== 'wst-node-3'));
  const got = flowsOf(
    await collectFlows(client, {
      number: 2n,
      whitelist: [{ extensions: wirescope({ peerNode: ['wst-node-3'] }) }],
    }),
  );
  const expected = flows.filter((f) => encryptionOf(f)?.peerNode === 'wst-node-3').slice(-2);
  assert.equal(got.length, 2);
  assert.deepEqual(uuids(got), uuids(expected));
});

test('--mechanism --first 3 and a --not --mechanism blacklist', async () => {
  const wg = (f: Flow) => encryptionOf(f)?.mechanism === Mechanism.WIREGUARD;
  const first = flowsOf(
    await collectFlows(client, {
      number: 3n,
      first: true,
      whitelist: [{ extensions: wirescope({ mechanism: [Mechanism.WIREGUARD] }) }],
    }),
  );
  assert.deepEqual(uuids(first), uuids(flows.filter(wg).slice(0, 3)));
  const notWg = flowsOf(
    await collectFlows(client, {
      number: 0n,
      blacklist: [{ extensions: wirescope({ mechanism: [Mechanism.WIREGUARD] }) }],
    }),
  );
  assert.deepEqual(uuids(notWg), uuids(flows.filter((f) => !wg(f))));
});

test('an invalid Wirescope filter is INVALID_ARGUMENT naming the field', async () => {
  await assert.rejects(
    collectFlows(client, { whitelist: [{ extensions: wirescope({ mechanism: [9 as Mechanism] }) }] }),
    (err: grpc.ServiceError) =>
      err.code === grpc.status.INVALID_ARGUMENT &&
      /^whitelist\[0\]\.extensions\.mechanism: unknown value 9/.test(err.details),
  );
  await assert.rejects(
    collectFlows(client, { blacklist: [{}, { extensions: wirescope({ peerNode: [''] }) }] }),
    (err: grpc.ServiceError) =>
      err.code === grpc.status.INVALID_ARGUMENT &&
      err.details === 'blacklist[1].extensions.peer_node: empty node name',
  );
});
