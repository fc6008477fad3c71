import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { HandshakeEventSchema, HandshakeMessageType } from '@wirescope/flow';
import { NodeMetrics } from './node-metrics.js';
import { SyntheticNodeState, parseExposition } from './test-support/synthetic.js';

async function scrape(m: NodeMetrics) {
  return parseExposition((await m.scrape()).body);
}
const pick = (all: Awaited<ReturnType<typeof scrape>>, name: string) =>
  all.filter((s) => s.name === name).map((s) => ({ ...s.labels, value: s.value }));

test('WireGuard peers under both exporters’ names; a never-handshaked peer reads 0', async () => {
  const m = new NodeMetrics(new SyntheticNodeState(), { hubbleMetrics: '' });
  const all = await scrape(m);
  assert.deepEqual(pick(all, 'wireguard_peer_last_handshake_seconds'), [
    { device: 'ws-a-wg0', public_key: 'PEERB=', value: 1_700_000_000 },
    { device: 'ws-a-wg0', public_key: 'PEERC=', value: 0 },
  ]);
  assert.deepEqual(pick(all, 'wireguard_peer_transmit_bytes_total'), [
    { device: 'ws-a-wg0', public_key: 'PEERB=', value: 2000 },
    { device: 'ws-a-wg0', public_key: 'PEERC=', value: 0 },
  ]);
  assert.deepEqual(pick(all, 'wireguard_peer_info'), [
    { device: 'ws-a-wg0', public_key: 'PEERB=', endpoint: '10.77.0.12:51871', name: 'node-b', value: 1 },
    { device: 'ws-a-wg0', public_key: 'PEERC=', endpoint: '', name: 'node-c', value: 1 },
  ]);
  assert.deepEqual(
    pick(all, 'wireguard_peer_allowed_ips_info').map((s) => `${s.allowed_ips} ${s.family}`),
    ['10.244.2.0/24 IPv4', '10.244.3.0/24 IPv4', 'fd00:3::/64 IPv6'],
  );
  assert.deepEqual(pick(all, 'wireguard_received_bytes_total'), [
    { interface: 'ws-a-wg0', public_key: 'PEERB=', allowed_ips: '10.244.2.0/24', value: 1000 },
    { interface: 'ws-a-wg0', public_key: 'PEERC=', allowed_ips: '10.244.3.0/24,fd00:3::/64', value: 0 },
  ]);
  assert.deepEqual(pick(all, 'wireguard_device_info'), [
    { device: 'ws-a-wg0', public_key: 'DEVKEY=', value: 1 },
  ]);
});

test('coverage per node pair and state, leaks, peers, datapath and ring from the node state', async () => {
  const state = new SyntheticNodeState();
  const m = new NodeMetrics(state, { hubbleMetrics: '' });
  let all = await scrape(m);
  assert.deepEqual(pick(all, 'wirescope_encryption_packets_total'), [
    { source_node: 'node-a', destination_node: 'node-b', state: 'encrypted', value: 990 },
    { source_node: 'node-a', destination_node: 'node-b', state: 'plaintext', value: 10 },
    { source_node: 'node-a', destination_node: 'node-c', state: 'dropped', value: 4 },
  ]);
  assert.equal(pick(all, 'wirescope_encryption_bytes_total')[0]?.value, 99000);
  assert.deepEqual(pick(all, 'wirescope_leak_packets_total'), [{ value: 3 }]);
  assert.deepEqual(pick(all, 'wirescope_wireguard_peers'), [
    { state: 'fresh', value: 1 },
    { state: 'stale', value: 1 },
  ]);
  assert.deepEqual(pick(all, 'wirescope_cluster_nodes'), [{ value: 3 }]);
  assert.deepEqual(
    pick(all, 'wirescope_datapath_program_attached').map(
      (s) => `${s.program}@${s.interface}/${s.direction}=${s.value}`,
    ),
    ['from_endpoint@lxc1/ingress=1', 'to_network@eth0/egress=0'],
  );
  // only filters that were ever put back have a series
  assert.deepEqual(
    pick(all, 'wirescope_datapath_program_repairs_total').map(
      (s) => `${s.program}@${s.interface}/${s.direction}=${s.value}`,
    ),
    ['from_endpoint@lxc1/ingress=2'],
  );
  assert.deepEqual(pick(all, 'wirescope_flow_ring_capacity'), [{ value: 4095 }]);
  assert.deepEqual(
    Object.fromEntries(pick(all, 'wirescope_lost_events_total').map((s) => [s.stage, s.value])),
    { kernel_ring: 2, decode: 1, observer_queue: 5 },
  );
  // datapath unloaded, WireGuard device gone: their series go, the node still answers
  state.dp = undefined;
  state.wg = undefined;
  all = await scrape(m);
  assert.deepEqual(pick(all, 'wirescope_encryption_packets_total'), []);
  assert.deepEqual(pick(all, 'wirescope_datapath_loaded'), [{ value: 0 }]);
  assert.deepEqual(pick(all, 'wireguard_peer_info'), []);
});

test('handshakes: messages by type and direction, completed, unanswered after 5 s, rekeys, round trip', async () => {
  let now = 1_000_000;
  const m = new NodeMetrics(new SyntheticNodeState(), { hubbleMetrics: '', now: () => now });
  const record = (
    type: HandshakeMessageType,
    initiatedLocally: boolean,
    sender: number,
    receiver: number,
    rttNs = 0n,
  ) =>
    create(HandshakeEventSchema, {
      peerNode: 'node-b',
      messageType: type,
      initiatedLocally,
      senderIndex: sender,
      receiverIndex: receiver,
      roundTripNs: rttNs,
    });
  m.observeHandshake(record(HandshakeMessageType.HANDSHAKE_INITIATION, true, 11, 0));
  m.observeHandshake(record(HandshakeMessageType.HANDSHAKE_RESPONSE, true, 22, 11, 3_000_000n)); // 3 ms
  m.observeHandshake(record(HandshakeMessageType.HANDSHAKE_INITIATION, false, 33, 0));
  m.observeHandshake(record(HandshakeMessageType.HANDSHAKE_RESPONSE, false, 44, 33));
  m.observeHandshake(record(HandshakeMessageType.HANDSHAKE_INITIATION, true, 55, 0)); // never answered
  m.observeHandshake(record(HandshakeMessageType.HANDSHAKE_COOKIE_REPLY, false, 0, 55));
  now += 4_000;
  let all = await scrape(m);
  assert.deepEqual(
    pick(all, 'wirescope_handshakes_total').map((s) => `${s.outcome}=${s.value}`),
    ['completed=2'],
  );
  now += 1_000;
  all = await scrape(m);
  assert.deepEqual(
    pick(all, 'wirescope_handshakes_total').map((s) => `${s.outcome}=${s.value}`),
    ['completed=2', 'unanswered=1'],
  );
  assert.deepEqual(
    pick(all, 'wirescope_handshake_messages_total').map((s) => `${s.message_type}/${s.direction}=${s.value}`),
    [
      'initiation/sent=2',
      'response/received=1',
      'initiation/received=1',
      'response/sent=1',
      'cookie_reply/unknown=1',
    ],
  );
  assert.deepEqual(pick(all, 'wirescope_rekeys_total'), [{ peer_node: 'node-b', value: 1 }]);
  const buckets = pick(all, 'wirescope_handshake_round_trip_seconds_bucket');
  assert.equal(buckets.find((b) => b.le === '0.0025')?.value, 0);
  assert.equal(buckets.find((b) => b.le === '0.005')?.value, 1);
  assert.deepEqual(pick(all, 'wirescope_handshake_round_trip_seconds_count'), [
    { peer_node: 'node-b', value: 1 },
  ]);
});
