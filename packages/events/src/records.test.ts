// Trace, drop and handshake records: byte fixtures laid out by hand from events.h.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder, type DropEvent, type HandshakeEvent, type TraceEvent } from './decode.js';

const header = (type: number, len: number, subtype: number): string =>
  '5357' +
  '01' +
  type.toString(16).padStart(2, '0') +
  le(len, 2) +
  le(subtype, 2) +
  '01000000' +
  '00000000' +
  le(1_000_000_000, 8);

function le(value: number | bigint, bytes: number): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value), 0);
  return b.subarray(0, bytes).toString('hex');
}

// 10.244.1.11:40000 -> 10.244.2.10:8080 TCP SYN, leaving the pod on ifindex 9
const PACKET =
  '0af4010b' +
  '00'.repeat(12) +
  '0af4020a' +
  '00'.repeat(12) +
  le(40000, 2) +
  le(8080, 2) +
  le(9, 4) +
  le(74, 4) + // ifindex, pkt_len
  le(1001, 4) +
  le(1002, 4) +
  le(2, 4) + // src/dst identity, peer node id
  '04' +
  '06' +
  '02' +
  '02' + // family 4, TCP, SYN, egress
  '0000' +
  le(0x04 | 0x20 | 0x02, 2); // icmp, flags ENCRYPTED|REDIRECTED|REPLY_KNOWN

const TRACE = Buffer.from(
  header(2, 120, 5) + PACKET + le(3, 8) + le(222, 8) + le(999, 8) + '01' + '12' + '00'.repeat(6),
  'hex',
);
const DROP = Buffer.from(header(3, 104, 195) + PACKET + le(0, 8) + '05' + '00'.repeat(7), 'hex');
const HANDSHAKE = Buffer.from(
  header(4, 80, 2) +
    '0a4d000c' +
    '00'.repeat(12) +
    '0a4d000b' +
    '00'.repeat(12) +
    le(51871, 2) +
    le(51871, 2) +
    le(3, 4) +
    le(0xdeadbeef, 4) +
    le(0x01020304, 4) +
    '01' +
    '00'.repeat(7),
  'hex',
);

test('decodes a from-endpoint trace record with identities and flow counters', () => {
  const e = new EventDecoder().decode(TRACE) as TraceEvent;
  assert.equal(e.kind, 'trace');
  assert.equal(e.point, 5);
  assert.equal(e.reason, 'new');
  assert.equal(e.tcpFlagsSeen, 0x12);
  assert.equal(e.flowPackets, 3n);
  assert.equal(e.flowBytes, 222n);
  assert.equal(e.firstSeenNs, 999n);
  assert.deepEqual(e.packet, {
    family: 4,
    saddr: '10.244.1.11',
    daddr: '10.244.2.10',
    sport: 40000,
    dport: 8080,
    ifindex: 9,
    pktLen: 74,
    srcIdentity: 1001,
    dstIdentity: 1002,
    peerNodeId: 2,
    protocol: 6,
    tcpFlags: 2,
    direction: 'egress',
    icmpType: 0,
    icmpCode: 0,
    flags: 0x26,
  });
});

test('decodes a datapath drop (reason 195) and a kernel drop flag', () => {
  const d = new EventDecoder().decode(DROP) as DropEvent;
  assert.equal(d.kind, 'drop');
  assert.equal(d.reason, 195);
  assert.equal(d.kernel, false);
  assert.equal(d.point, 5);
  const kernel = Buffer.from(DROP);
  kernel.writeUInt16LE(3, 6); // SKB_DROP_REASON_NO_SOCKET
  kernel.writeUInt16LE(0x10, 24 + 62); // WS_F_KERNEL
  const k = new EventDecoder().decode(kernel) as DropEvent;
  assert.equal(k.reason, 3);
  assert.equal(k.kernel, true);
});

test('decodes a handshake response with both indexes', () => {
  const h = new EventDecoder().decode(HANDSHAKE) as HandshakeEvent;
  assert.equal(h.kind, 'handshake');
  assert.equal(h.messageType, 2);
  assert.equal(h.saddr, '10.77.0.12');
  assert.equal(h.daddr, '10.77.0.11');
  assert.equal(h.senderIndex, 0xdeadbeef);
  assert.equal(h.receiverIndex, 0x01020304);
  assert.equal(h.direction, 'ingress');
});

test('short trace, drop and handshake records are counted as truncated', () => {
  const decoder = new EventDecoder();
  for (const rec of [TRACE, DROP, HANDSHAKE]) {
    const short = Buffer.from(rec.subarray(0, 60));
    short.writeUInt16LE(60, 4);
    assert.equal(decoder.decode(short), undefined);
  }
  assert.equal(decoder.stats.truncated, 3);
});

test('fuzz: corrupted trace/drop/handshake records never throw', () => {
  let seed = 777;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const decoder = new EventDecoder();
  for (let i = 0; i < 20000; i++) {
    const base = [TRACE, DROP, HANDSHAKE][i % 3] as Buffer;
    const rec = Buffer.from(base);
    for (let k = 0; k < 4; k++) rec[rand() % rec.length] = rand() & 0xff;
    decoder.decode(rec.subarray(0, rand() % (rec.length + 1)));
  }
  const s = decoder.stats;
  assert.equal(s.decoded + s.truncated + s.badMagic + s.unknownVersion + s.unknownType, 20000);
  assert.ok(s.decoded > 0);
});

test('decodes a policy verdict: a denied SYN at to-endpoint, by a deny rule, audited', () => {
  const record = Buffer.from(
    header(6, 104, 0) + PACKET + le(1001, 4) + le(7, 4) + le(181, 2) + '02' + '01' + '00'.repeat(4),
    'hex',
  );
  const e = new EventDecoder().decode(record);
  assert.ok(e?.kind === 'policy-verdict');
  assert.deepEqual(
    [e.point, e.remoteIdentity, e.cookie, e.dropReason, e.matchType, e.audited],
    [0, 1001, 7, 181, 2, true],
  );
  assert.equal(e.packet.dport, 8080);
  const short = new EventDecoder();
  assert.equal(short.decode(record.subarray(0, 100)), undefined);
  assert.equal(short.stats.truncated, 1);
});
