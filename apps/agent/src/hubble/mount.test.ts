// The agent's Hubble gRPC mount, fed by the flow observer: a stock GetFlows client sees the flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYOUT } from '@wirescope/events';
import { writeEventHeader, writePacketInfo } from '@wirescope/events/testing';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { EncryptionStatusRequestSchema, Verdict } from '@wirescope/flow';
import { clientChannelOptions, clientCredentials, methods, unary } from '@wirescope/observer';
import { checkHealth, collectFlows, makeTestPki, testClient } from '@wirescope/observer/testing';
import { FlowObserver } from '../flows/observer.js';
import type { EnrichContext } from '../flows/enrich.js';
import { HubbleMount } from './mount.js';

const ctx: EnrichContext = {
  nodeName: 'node1',
  endpointByIP: (ip) =>
    ip === '10.244.1.11'
      ? { namespace: 'shop', pod: 'frontend', labels: { app: 'frontend' }, identity: 1001, node: 'node1' }
      : undefined,
  nodeById: () => undefined,
  nodeByUnderlayIP: () => undefined,
  interfaceName: () => undefined,
  receiverIndexFor: () => undefined,
  kernelDropReasonName: () => undefined,
  wallClockMs: () => Date.now(),
};

function traceRecord(): Buffer {
  const b = Buffer.alloc(LAYOUT.ws_trace_event.size);
  writeEventHeader(b, 0, { type: 2, subtype: 5, size: b.length });
  writePacketInfo(b, LAYOUT.ws_trace_event.fields.pkt.offset, {
    saddr: [10, 244, 1, 11],
    daddr: [10, 244, 2, 10],
    family: 4,
    protocol: 17,
  });
  return b;
}

test('flows from the datapath observer are served by the Hubble Observer API; nodes become peers; health SERVING', async () => {
  const flows = new FlowObserver(ctx);
  const mount = new HubbleMount({ nodeName: 'node1', listen: ['127.0.0.1:0'] }, flows.observer);
  const [address] = await mount.start();
  try {
    for (const service of ['hubble.server.Observer', 'observer.Observer', ''])
      assert.equal(await checkHealth(address ?? '', service), 'SERVING', service);
    const rec = traceRecord();
    flows.onBatch({ buffer: rec, offsets: Uint32Array.from([0, rec.length]), count: 1 });
    assert.equal(mount.observer.ring.seen, 1);
    const client = testClient(address ?? '');
    try {
      const responses = await collectFlows(client, { number: 10n });
      const got = responses.flatMap((r) => (r.responseTypes.case === 'flow' ? [r.responseTypes.value] : []));
      assert.equal(got.length, 1);
      assert.equal(got[0]?.verdict, Verdict.FORWARDED);
      assert.equal(got[0]?.source?.podName, 'frontend');
      assert.equal(got[0]?.nodeName, 'node1');
    } finally {
      client.close();
    }
    mount.setNodes([
      {
        name: 'node1',
        underlayIP: '10.77.0.11',
        podCIDR: '10.244.1.0/24',
        wireguardPublicKey: 'a',
        wireguardPort: 51871,
      },
      {
        name: 'node2',
        underlayIP: '10.77.0.12',
        podCIDR: '10.244.2.0/24',
        wireguardPublicKey: 'b',
        wireguardPort: 51871,
      },
    ]);
    assert.deepEqual(
      mount.peers
        .list()
        .map((p) => `${p.name}@${p.address}`)
        .sort(),
      ['node1@10.77.0.11:0', 'node2@10.77.0.12:0'],
    );
  } finally {
    await mount.stop();
  }
});

test('with TLS the TCP port requires a client certificate while the unix socket stays plain; EncryptionStatus reports the node', async () => {
  const pki = makeTestPki();
  const socket = join(pki.dir, 'hubble.sock');
  const flows = new FlowObserver(ctx);
  const mount = new HubbleMount(
    {
      nodeName: 'node1',
      listen: ['127.0.0.1:0', `unix://${socket}`],
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca },
    },
    flows.observer,
  );
  const [tcp, unix] = await mount.start();
  assert.equal(unix, `unix://${socket}`);
  assert.equal(await checkHealth(unix, 'hubble.server.Observer'), 'SERVING');
  mount.setEncryptStatus({
    mechanism: 'wireguard-go',
    interface: 'wsl-wg-node1',
    publicKey: 'pub1',
    listenPort: 51871,
    mtu: 1420,
    observedAt: '2026-01-02T03:04:06.000Z',
    peers: [
      {
        node: 'node2',
        publicKey: 'pub2',
        endpoint: '10.77.0.12:51871',
        allowedIPs: ['10.244.2.0/24'],
        latestHandshake: '2026-01-02T03:04:05.000Z',
        handshakeAgeSeconds: 3,
        rxBytes: 10,
        txBytes: 20,
        persistentKeepalive: 25,
        staleSince: '2026-01-02T03:00:00.000Z',
      },
    ],
  });
  const clients: grpc.Client[] = [];
  try {
    const plain = testClient(unix ?? '');
    clients.push(plain);
    const status = await unary(
      plain,
      methods.wirescope.encryptionStatus,
      create(EncryptionStatusRequestSchema),
    );
    assert.equal(status.nodes.length, 1);
    assert.equal(status.nodes[0]?.nodeName, 'node1');
    assert.equal(status.nodes[0]?.implementation, 'wireguard-go');
    assert.equal(status.nodes[0]?.peers[0]?.peerNode, 'node2');
    assert.equal(status.nodes[0]?.peers[0]?.txBytes, 20n);
    // a snapshot says how old it is, and a peer whose agent is gone says since when
    assert.equal(status.nodes[0]?.observedAt?.seconds, BigInt(Date.parse('2026-01-02T03:04:06Z') / 1000));
    assert.equal(
      status.nodes[0]?.peers[0]?.staleSince?.seconds,
      BigInt(Date.parse('2026-01-02T03:00:00Z') / 1000),
    );
    assert.equal(status.nodes[0]?.error, '');

    const mutual = testClient(
      tcp ?? '',
      clientCredentials({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, serverName: 'localhost' }),
      clientChannelOptions({ ca: pki.ca, serverName: 'localhost' }),
    );
    clients.push(mutual);
    const viaTls = await unary(
      mutual,
      methods.wirescope.encryptionStatus,
      create(EncryptionStatusRequestSchema),
      { deadlineMs: 5000 },
    );
    assert.equal(viaTls.nodes[0]?.nodeName, 'node1');

    const noCert = testClient(
      tcp ?? '',
      clientCredentials({ ca: pki.ca, serverName: 'localhost' }),
      clientChannelOptions({ ca: pki.ca, serverName: 'localhost' }),
    );
    clients.push(noCert);
    await assert.rejects(
      unary(noCert, methods.wirescope.encryptionStatus, create(EncryptionStatusRequestSchema), {
        deadlineMs: 3000,
      }),
      (err: grpc.ServiceError) =>
        err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED,
    );
  } finally {
    for (const c of clients) c.close();
    await mount.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  }
});
