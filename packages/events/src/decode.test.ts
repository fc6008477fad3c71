import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder, formatProbeEvent, tcpFlagNames } from './decode.js';
import { formatIPv6 } from './ip.js';

// Byte fixtures written out by hand from events.h (little-endian host fields).
const HEADER_PROBE_V4 =
  '5357' + // magic "WS" 0x5753
  '01' + // version
  '01' + // type PROBE
  '5000' + // len 80
  '0000' + // subtype
  '03000000' + // cpu 3
  '00000000' + // reserved
  '0100000002000000'; // ktime_ns 0x0000000200000001
const PROBE_V4_TCP = Buffer.from(
  HEADER_PROBE_V4 +
    '0a000001' +
    '00'.repeat(12) + // saddr 10.0.0.1
    'c0a80102' +
    '00'.repeat(12) + // daddr 192.168.1.2
    '3930' + // sport 12345 (0x3039)
    '5000' + // dport 80
    '07000000' + // ifindex 7
    '4a000000' + // pkt_len 74
    '04' + // family 4
    '06' + // protocol TCP
    '12' + // SYN|ACK
    '02' + // egress
    '0000' + // icmp type/code
    '00'.repeat(6),
  'hex',
);

const PROBE_V6_ICMP = Buffer.from(
  '5357' +
    '01' +
    '01' +
    '5000' +
    '0000' +
    '00000000' +
    '00000000' +
    '0a00000000000000' +
    'fd000201000000000000000000000002' + // fd00:201::2
    'fd000201000000000000000000000001' + // fd00:201::1
    '0000' +
    '0000' + // no ports
    '02000000' + // ifindex 2
    '76000000' + // 118
    '06' +
    '3a' +
    '00' +
    '01' + // family 6, ICMPv6, no flags, ingress
    '80' +
    '00' + // echo request
    '00'.repeat(6),
  'hex',
);

const BENCH = Buffer.from(
  '5357' + '01' + 'ff' + '2000' + '0000' + '01000000' + '00000000' + '0000000000000000' + '2a00000000000000',
  'hex',
);

test('decodes an IPv4 TCP probe record field by field', () => {
  assert.equal(PROBE_V4_TCP.length, 80);
  const decoder = new EventDecoder();
  const e = decoder.decode(PROBE_V4_TCP);
  assert.deepEqual(e, {
    kind: 'probe',
    header: { magic: 0x5753, version: 1, type: 1, len: 80, subtype: 0, cpu: 3, ktimeNs: 0x0000000200000001n },
    family: 4,
    saddr: '10.0.0.1',
    daddr: '192.168.1.2',
    sport: 12345,
    dport: 80,
    ifindex: 7,
    pktLen: 74,
    protocol: 6,
    tcpFlags: 0x12,
    direction: 'egress',
    icmpType: 0,
    icmpCode: 0,
  });
  assert.deepEqual(decoder.stats, {
    decoded: 1,
    truncated: 0,
    badMagic: 0,
    unknownVersion: 0,
    unknownType: 0,
  });
  assert.equal(
    formatProbeEvent(e as never),
    'egress  if=7 TCP 10.0.0.1:12345 -> 192.168.1.2:80 [SYN,ACK] len=74',
  );
});

test('decodes an IPv6 ICMPv6 probe record', () => {
  const e = new EventDecoder().decode(PROBE_V6_ICMP);
  assert.ok(e && e.kind === 'probe');
  assert.equal(e.family, 6);
  assert.equal(e.saddr, 'fd00:201::2');
  assert.equal(e.daddr, 'fd00:201::1');
  assert.equal(e.protocol, 58);
  assert.equal(e.direction, 'ingress');
  assert.equal(e.icmpType, 128);
  assert.equal(e.ifindex, 2);
  assert.equal(e.header.ktimeNs, 10n);
  assert.equal(formatProbeEvent(e), 'ingress if=2 ICMPv6 fd00:201::2 -> fd00:201::1 type=128 code=0 len=118');
});

test('decodes a bench record', () => {
  const e = new EventDecoder().decode(BENCH);
  assert.ok(e && e.kind === 'bench');
  assert.equal(e.seq, 42n);
  assert.equal(e.header.cpu, 1);
});

test('counts truncated, foreign, newer and unknown records instead of throwing', () => {
  const decoder = new EventDecoder();
  assert.equal(decoder.decode(PROBE_V4_TCP.subarray(0, 10)), undefined); // shorter than a header
  assert.equal(decoder.decode(PROBE_V4_TCP.subarray(0, 60)), undefined); // len says 80
  const foreign = Buffer.from(PROBE_V4_TCP);
  foreign[0] = 0;
  assert.equal(decoder.decode(foreign), undefined);
  const newer = Buffer.from(PROBE_V4_TCP);
  newer[2] = 2;
  assert.equal(decoder.decode(newer), undefined);
  const unknown = Buffer.from(PROBE_V4_TCP);
  unknown[3] = 5; // WS_EVENT_FLOW: reserved, not decoded yet
  assert.equal(decoder.decode(unknown), undefined);
  const shortProbe = Buffer.from(PROBE_V4_TCP.subarray(0, 40));
  shortProbe.writeUInt16LE(40, 4); // consistent len, but too short for a probe record
  assert.equal(decoder.decode(shortProbe), undefined);
  assert.deepEqual(decoder.stats, {
    decoded: 0,
    truncated: 3,
    badMagic: 1,
    unknownVersion: 1,
    unknownType: 1,
  });
});

test('decodeBatch walks offsets; decodeStream walks header lengths', () => {
  const unknown = Buffer.from(PROBE_V4_TCP);
  unknown[3] = 5;
  const buffer = Buffer.concat([PROBE_V4_TCP, BENCH, unknown, PROBE_V6_ICMP]);
  const offsets = Uint32Array.from([0, 80, 112, 192, 272]);
  const decoder = new EventDecoder();
  const events = decoder.decodeBatch({ buffer, offsets, count: 4 });
  assert.deepEqual(
    events.map((e) => e.kind),
    ['probe', 'bench', 'probe'],
  );
  assert.equal(decoder.stats.unknownType, 1);
  assert.equal(decoder.stats.decoded, 3);

  const streamDecoder = new EventDecoder();
  const streamed = streamDecoder.decodeStream(Buffer.concat([buffer, Buffer.from([1, 2, 3])]));
  assert.equal(streamed.length, 3);
  assert.equal(streamDecoder.stats.truncated, 1); // the 3 trailing bytes

  // offsets pointing outside the buffer are counted, not followed
  const bad = new EventDecoder().decodeBatch({
    buffer: PROBE_V4_TCP,
    offsets: Uint32Array.from([0, 500]),
    count: 1,
  });
  assert.equal(bad.length, 0);
});

test('fuzz: random bytes and random corruptions never throw and are all accounted for', () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const decoder = new EventDecoder();
  const total = 20000;
  for (let i = 0; i < total; i++) {
    let rec: Buffer;
    if (i % 2 === 0) {
      rec = Buffer.alloc(rand() % 120);
      for (let j = 0; j < rec.length; j++) rec[j] = rand() & 0xff;
    } else {
      // a valid record with a few random bytes flipped, keeps magic valid often
      rec = Buffer.from(i % 4 === 1 ? PROBE_V4_TCP : PROBE_V6_ICMP);
      for (let k = 0; k < 3; k++) rec[rand() % rec.length] = rand() & 0xff;
      rec = rec.subarray(0, rand() % (rec.length + 1));
    }
    decoder.decode(rec);
    decoder.decodeStream(rec);
  }
  const s = decoder.stats;
  const decodeCalls = s.decoded + s.truncated + s.badMagic + s.unknownVersion + s.unknownType;
  assert.ok(decodeCalls >= total, `every decode() call is counted (${decodeCalls} of at least ${total})`);
  assert.ok(s.decoded > 0 && s.truncated > 0 && s.badMagic > 0);
});

test('TCP flag names and IPv6 formatting follow Hubble and RFC 5952', () => {
  assert.deepEqual(tcpFlagNames(0x14), ['RST', 'ACK']);
  assert.deepEqual(tcpFlagNames(0xff), ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR']);
  const b = (hex: string) => Buffer.from(hex, 'hex');
  assert.equal(formatIPv6(b('00000000000000000000000000000001')), '::1');
  assert.equal(formatIPv6(b('20010db8000000010000000000000001')), '2001:db8:0:1::1');
  assert.equal(formatIPv6(b('20010db8000000000001000000000001')), '2001:db8::1:0:0:1');
  assert.equal(formatIPv6(b('00000000000000000000ffff0a000001')), '::ffff:10.0.0.1');
  assert.equal(formatIPv6(b('fe800000000000000202b3fffe1e8329')), 'fe80::202:b3ff:fe1e:8329');
  assert.equal(formatIPv6(b('00000000000000000000000000000000')), '::');
});
