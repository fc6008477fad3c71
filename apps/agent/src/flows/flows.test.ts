import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYOUT } from '@wirescope/events';
import { recordBatch, writeEventHeader, writePacketInfo } from '@wirescope/events/testing';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  DropReason,
  FlowSchema,
  Mechanism,
  TraceObservationPoint,
  TraceReason,
  TrafficDirection,
  Verdict,
  encodeFlowResponse,
  encryptionOf,
  packedEncryption,
  type Flow,
} from '@wirescope/flow';
import { FlowDecoder } from './decode.js';
import { FlowObserver } from './observer.js';
import type { EnrichContext } from './enrich.js';

const NODE2_ID = (10 << 24) | (77 << 16) | 12;

const ctx: EnrichContext = {
  nodeName: 'node1',
  endpointByIP: (ip) =>
    ({
      '10.244.1.11': {
        namespace: 'shop',
        pod: 'frontend',
        labels: { app: 'frontend' },
        identity: 1001,
        node: 'node1',
      },
      '10.244.2.10': { namespace: 'shop', pod: 'api', labels: { app: 'api' }, identity: 1002, node: 'node2' },
    })[ip],
  nodeById: (id) =>
    id === NODE2_ID ? { name: 'node2', underlayIP: '10.77.0.12', publicKey: 'k2' } : undefined,
  nodeByUnderlayIP: (ip) => (ip === '10.77.0.12' ? { name: 'node2', underlayIP: ip } : undefined),
  interfaceName: (i) => (i === 9 ? 'lxc1234' : undefined),
  receiverIndexFor: (address) => (address === '10.77.0.12' ? 77 : undefined),
  kernelDropReasonName: (r) => (r === 3 ? 'NO_SOCKET' : undefined),
  wallClockMs: (ns) => 1_700_000_000_000 + Number(ns / 1_000_000n),
};

/** A record laid out through the events layout table (the same offsets the C structs have). */
function record(type: number, subtype: number, fill: (b: Buffer, pkt: number) => void, size: number): Buffer {
  const b = Buffer.alloc(size);
  writeEventHeader(b, 0, { type, subtype, size, ktimeNs: 5_000_000n });
  fill(b, 24);
  return b;
}

function packet(b: Buffer, at: number, flags: number): void {
  writePacketInfo(b, at, {
    saddr: [10, 244, 1, 11],
    daddr: [10, 244, 2, 10],
    sport: 40000,
    dport: 8080,
    ifindex: 9,
    srcIdentity: 1001,
    dstIdentity: 1002,
    peerNodeId: NODE2_ID,
    family: 4,
    protocol: 6,
    tcpFlags: 0x02,
    direction: 2,
    flags,
  });
}

const batchOf = recordBatch;

test('a to-crypto trace becomes a Hubble flow with identities, encryption and peer', () => {
  const observer = new FlowObserver(ctx);
  observer.onBatch(batchOf(record(2, 13, (b, at) => packet(b, at, 0x04 | 0x02), LAYOUT.ws_trace_event.size)));
  const [flow] = observer.flows.last(1);
  assert.ok(flow);
  assert.equal(flow.verdict, Verdict.FORWARDED);
  assert.equal(flow.traceObservationPoint, TraceObservationPoint.TO_CRYPTO);
  assert.deepEqual([flow.eventType?.type, flow.eventType?.subType], [4, 13]);
  assert.equal(flow.IP?.encrypted, true);
  assert.equal(flow.isReply, false);
  assert.equal(flow.source?.podName, 'frontend');
  assert.equal(flow.source?.identity, 1001);
  assert.deepEqual(flow.source?.labels, ['k8s:app=frontend']);
  assert.equal(flow.destination?.namespace, 'shop');
  assert.equal(flow.destination?.podName, 'api');
  assert.equal(flow.interface?.name, 'lxc1234');
  assert.equal(flow.l4?.protocol.case, 'TCP');
  assert.equal(flow.l4?.protocol.case === 'TCP' && flow.l4.protocol.value.flags?.SYN, true);
  const enc = encryptionOf(flow);
  assert.equal(enc?.mechanism, Mechanism.WIREGUARD);
  assert.equal(enc?.peerNode, 'node2');
  assert.equal(enc?.receiverIndex, 77);
  assert.equal(flow.time?.seconds, 1_700_000_000n);
  assert.equal(flow.Summary, 'TCP Flags: SYN');
});

test('to-endpoint maps to TraceObservationPoint 101; unknown reply direction stays unset', () => {
  const observer = new FlowObserver(ctx);
  observer.onBatch(batchOf(record(2, 0, (b, at) => packet(b, at, 0), LAYOUT.ws_trace_event.size)));
  const [flow] = observer.flows.last(1);
  assert.equal(flow?.traceObservationPoint, TraceObservationPoint.TO_ENDPOINT);
  assert.equal(flow?.isReply, undefined);
  assert.equal(encryptionOf(flow!)?.mechanism, Mechanism.NONE);
});

test('strict-mode drop (195) and kernel drop (NO_SOCKET) become DROPPED flows', () => {
  const observer = new FlowObserver(ctx);
  const strict = record(3, 195, (b, at) => packet(b, at, 0), LAYOUT.ws_drop_event.size);
  strict.writeUInt8(5, LAYOUT.ws_drop_event.fields.trace_point.offset);
  const kernel = record(3, 3, (b, at) => packet(b, at, 0x10), LAYOUT.ws_drop_event.size);
  observer.onBatch(batchOf(strict, kernel));
  const [d195, dKernel] = observer.flows.last(2);
  assert.equal(d195?.verdict, Verdict.DROPPED);
  assert.equal(d195?.dropReasonDesc, 195);
  assert.equal(d195?.traceObservationPoint, TraceObservationPoint.FROM_ENDPOINT);
  assert.deepEqual([d195?.eventType?.type, d195?.eventType?.subType, d195?.dropReason], [1, 195, 195]);
  assert.equal(d195?.Summary, 'TCP Flags: SYN');
  assert.equal(encryptionOf(d195!)?.kernelDropReason, '');
  assert.equal(dKernel?.verdict, Verdict.DROPPED);
  assert.equal(dKernel?.destination?.podName, 'api');
  // not Cilium's sub_type 3 ("Interface"): 255, which no Cilium reason uses
  assert.deepEqual(
    [dKernel?.eventType?.type, dKernel?.eventType?.subType, dKernel?.dropReason],
    [1, 255, 255],
  );
  assert.equal(dKernel?.dropReasonDesc, DropReason.DROP_REASON_UNKNOWN);
  assert.equal(dKernel?.Summary, 'TCP Flags: SYN; kernel drop: NO_SOCKET');
  const enc = encryptionOf(dKernel!);
  assert.deepEqual([enc?.kernelDropReason, enc?.kernelDropReasonCode], ['NO_SOCKET', 3]);
});

test('Summary is filled the way Cilium fills it: UDP, ICMPv4/ICMPv6 by type, a kernel reason the vmlinux does not name by value', () => {
  const withProtocol =
    (protocol: number, icmpType = 0, icmpCode = 0) =>
    (b: Buffer, at: number) => {
      const P = LAYOUT.ws_packet_info.fields;
      packet(b, at, 0);
      b.writeUInt8(protocol, at + P.protocol.offset);
      if (protocol === 1 || protocol === 58) {
        b.writeUInt8(icmpType, at + P.icmp_type.offset);
        b.writeUInt8(icmpCode, at + P.icmp_code.offset);
      }
    };
  const observer = new FlowObserver(ctx);
  observer.onBatch(
    batchOf(
      record(2, 0, withProtocol(17), LAYOUT.ws_trace_event.size),
      record(2, 0, withProtocol(1, 8), LAYOUT.ws_trace_event.size),
      record(2, 0, withProtocol(1, 3, 3), LAYOUT.ws_trace_event.size),
      record(2, 0, withProtocol(58, 128), LAYOUT.ws_trace_event.size),
      record(2, 0, withProtocol(47), LAYOUT.ws_trace_event.size),
    ),
  );
  const kernel = record(3, 77, (b, at) => packet(b, at, 0x10), LAYOUT.ws_drop_event.size);
  kernel.writeUInt8(17, 24 + LAYOUT.ws_packet_info.fields.protocol.offset);
  observer.onBatch(batchOf(kernel));
  assert.deepEqual(
    observer.flows.last(6).map((f) => f.Summary),
    [
      'UDP',
      'ICMPv4 EchoRequest',
      'ICMPv4 DestinationUnreachable(Port)',
      'ICMPv6 EchoRequest',
      'IPv4',
      'UDP; kernel drop: reason 77',
    ],
  );
  const [unnamed] = observer.flows.last(1);
  assert.deepEqual(
    [encryptionOf(unnamed!)?.kernelDropReason, encryptionOf(unnamed!)?.kernelDropReasonCode],
    ['', 77],
  );
});

test('the live path (records) writes the bytes of the flow messages the hooks see, and of the flow enrich used to build', () => {
  const observer = new FlowObserver(ctx);
  const seen: Flow[] = [];
  observer.observer.addHook({ onFlow: (entry) => seen.push(entry.flow) });
  const udp = record(2, 0, (b, at) => packet(b, at, 0x02), LAYOUT.ws_trace_event.size);
  udp.writeUInt8(17, 24 + LAYOUT.ws_packet_info.fields.protocol.offset);
  const strict = record(3, 195, (b, at) => packet(b, at, 0), LAYOUT.ws_drop_event.size);
  const kernel = record(3, 3, (b, at) => packet(b, at, 0x10), LAYOUT.ws_drop_event.size);
  const crypto = record(2, 13, (b, at) => packet(b, at, 0x04 | 0x02), LAYOUT.ws_trace_event.size);
  observer.onBatch(batchOf(crypto, udp, strict, kernel));
  const entries = observer.observer.ring.last(4);
  assert.equal(seen.length, 4);
  entries.forEach((entry, i) => {
    const want = encodeFlowResponse(toBinary(FlowSchema, seen[i]!), 'node1', entry.time);
    assert.deepEqual(Buffer.from(entry.response), Buffer.from(want));
  });
  // the to-crypto trace as enrich built it as a message, every member by create()
  const reference = create(FlowSchema, {
    time: { seconds: 1_700_000_000n, nanos: 5_000_000 },
    uuid: seen[0]!.uuid,
    verdict: Verdict.FORWARDED,
    IP: { source: '10.244.1.11', destination: '10.244.2.10', ipVersion: 1, encrypted: true },
    l4: {
      protocol: { case: 'TCP', value: { sourcePort: 40000, destinationPort: 8080, flags: { SYN: true } } },
    },
    source: {
      identity: 1001,
      namespace: 'shop',
      podName: 'frontend',
      labels: ['k8s:app=frontend'],
      workloads: [{ name: 'frontend', kind: 'Pod' }],
    },
    destination: {
      identity: 1002,
      namespace: 'shop',
      podName: 'api',
      labels: ['k8s:app=api'],
      workloads: [{ name: 'api', kind: 'Pod' }],
    },
    Type: 1,
    nodeName: 'node1',
    eventType: { type: 4, subType: 13 },
    trafficDirection: TrafficDirection.EGRESS,
    traceObservationPoint: TraceObservationPoint.TO_CRYPTO,
    traceReason: TraceReason.ESTABLISHED,
    isReply: false,
    interface: { index: 9, name: 'lxc1234' },
    Summary: 'TCP Flags: SYN',
    extensions: packedEncryption({
      mechanism: Mechanism.WIREGUARD,
      peerNode: 'node2',
      peerPublicKey: 'k2',
      receiverIndex: 77,
    }),
  });
  assert.deepEqual(
    Buffer.from(entries[0]!.response),
    Buffer.from(encodeFlowResponse(toBinary(FlowSchema, reference), 'node1', entries[0]!.time)),
  );
});

test('handshake initiation then response gives the round trip and the peer', () => {
  const observer = new FlowObserver(ctx);
  const hs = (type: number, dir: number, sender: number, receiver: number, ktime: bigint) => {
    const F = LAYOUT.ws_handshake_event.fields;
    const b = record(4, type, () => {}, LAYOUT.ws_handshake_event.size);
    const [src, dst] =
      dir === 2
        ? [
            [10, 77, 0, 11],
            [10, 77, 0, 12],
          ]
        : [
            [10, 77, 0, 12],
            [10, 77, 0, 11],
          ];
    Buffer.from(src as number[]).copy(b, F.saddr.offset);
    Buffer.from(dst as number[]).copy(b, F.daddr.offset);
    b.writeUInt32LE(sender, F.sender_index.offset);
    b.writeUInt32LE(receiver, F.receiver_index.offset);
    b.writeUInt8(dir, F.direction.offset);
    b.writeBigUInt64LE(ktime, 16);
    return b;
  };
  observer.onBatch(batchOf(hs(1, 2, 111, 0, 1_000_000n), hs(2, 1, 222, 111, 1_750_000n)));
  const [init, resp] = observer.lastHandshakes(2);
  assert.equal(init?.peerNode, 'node2');
  assert.equal(init?.initiatedLocally, true);
  assert.equal(resp?.roundTripNs, 750_000n);
  assert.equal(observer.tracker.receiverIndexFor('10.77.0.12'), 222);
});

test('records of one wake-up enter the ring in time order, whatever order the CPUs committed them', () => {
  const observer = new FlowObserver(ctx);
  const at = (ktime: bigint) => {
    const b = record(2, 13, (buf, pkt) => packet(buf, pkt, 0x04 | 0x02), LAYOUT.ws_trace_event.size);
    b.writeBigUInt64LE(ktime, LAYOUT.ws_event_header.fields.ktime_ns.offset);
    return b;
  };
  observer.onBatch(batchOf(at(3_000_000n), at(1_000_000n), at(2_000_000n)));
  const times = observer.flows.last(3).map((f) => Number(f.time?.nanos ?? 0));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
  assert.equal(new Set(times).size, 3);
});

test('fuzz: random and corrupted records are counted, never thrown', () => {
  const observer = new FlowObserver(ctx);
  const decoder = new FlowDecoder();
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const valid = record(2, 13, (b, at) => packet(b, at, 0x04), LAYOUT.ws_trace_event.size);
  for (let i = 0; i < 5000; i++) {
    let rec: Buffer;
    if (i % 2) {
      rec = Buffer.alloc(rand() % 200);
      for (let j = 0; j < rec.length; j++) rec[j] = rand() & 0xff;
    } else {
      rec = Buffer.from(valid);
      for (let k = 0; k < 4; k++) rec[rand() % rec.length] = rand() & 0xff;
      rec = rec.subarray(0, rand() % (rec.length + 1));
    }
    observer.onBatch(batchOf(rec));
    decoder.decodeRecord(rec);
  }
  const c = observer.counters();
  assert.equal(c.decoded + c.undecodable, 5000);
  assert.ok(c.undecodable > 0 && c.decoded > 0);
  const enrichFailed = c.lost - c.undecodable - c.kernelLost;
  assert.equal(c.flowsSeen + c.handshakesSeen + enrichFailed + c.benignKernelDrops, c.decoded);
  assert.equal(observer.observer.ring.seen, c.flowsSeen, 'every flow is in the one ring');
});
