import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { FlowSchema } from './gen/flow/flow_pb.js';
import { ciliumSummary } from './summary.js';

const summary = (json: JsonValue) => ciliumSummary(fromJson(FlowSchema, json));
const ip4 = { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' };
const ip6 = { source: 'fd00::1', destination: 'fd00::2', ipVersion: 'IPv6' };
const tcp = (flags: Record<string, boolean>) => ({
  IP: ip4,
  l4: { TCP: { source_port: 1, destination_port: 2, flags } },
});

test('TCP: "TCP Flags: " and the flags in Cilium order (SYN ACK RST FIN PSH URG ECE CWR NS)', () => {
  assert.equal(summary(tcp({ SYN: true })), 'TCP Flags: SYN');
  assert.equal(summary(tcp({ SYN: true, ACK: true })), 'TCP Flags: SYN, ACK');
  assert.equal(summary(tcp({ ACK: true, PSH: true })), 'TCP Flags: ACK, PSH');
  assert.equal(summary(tcp({ FIN: true, ACK: true })), 'TCP Flags: ACK, FIN');
  assert.equal(summary(tcp({ RST: true, ACK: true })), 'TCP Flags: ACK, RST');
  assert.equal(summary(tcp({ PSH: true, FIN: true, ACK: true })), 'TCP Flags: ACK, FIN, PSH');
  assert.equal(
    summary(
      tcp({
        FIN: true,
        SYN: true,
        RST: true,
        PSH: true,
        ACK: true,
        URG: true,
        ECE: true,
        CWR: true,
        NS: true,
      }),
    ),
    'TCP Flags: SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS',
  );
  // Cilium joins an empty flag list all the same
  assert.equal(summary(tcp({})), 'TCP Flags: ');
  // cached strings are not shared between different flag sets
  assert.equal(summary(tcp({ SYN: true })), 'TCP Flags: SYN');
});

test('UDP and SCTP by name', () => {
  assert.equal(summary({ IP: ip4, l4: { UDP: { source_port: 5, destination_port: 53 } } }), 'UDP');
  assert.equal(summary({ IP: ip6, l4: { SCTP: { source_port: 5, destination_port: 9 } } }), 'SCTP');
});

test('ICMPv4 as gopacket names type and code', () => {
  const icmp = (type: number, code: number) => summary({ IP: ip4, l4: { ICMPv4: { type, code } } });
  assert.equal(icmp(8, 0), 'ICMPv4 EchoRequest');
  assert.equal(icmp(0, 0), 'ICMPv4 EchoReply');
  assert.equal(icmp(3, 3), 'ICMPv4 DestinationUnreachable(Port)');
  assert.equal(icmp(3, 4), 'ICMPv4 DestinationUnreachable(FragmentationNeeded)');
  assert.equal(icmp(3, 10), 'ICMPv4 DestinationUnreachable(HostAdminProhibited)');
  assert.equal(icmp(3, 99), 'ICMPv4 DestinationUnreachable(Code: 99)');
  assert.equal(icmp(11, 0), 'ICMPv4 TimeExceeded(TTLExceeded)');
  assert.equal(icmp(5, 2), 'ICMPv4 Redirect(TOS+Net)');
  assert.equal(icmp(8, 1), 'ICMPv4 EchoRequest(Code: 1)');
  assert.equal(icmp(42, 7), 'ICMPv4 42(7)');
});

test('ICMPv6 as gopacket names type and code', () => {
  const icmp = (type: number, code: number) => summary({ IP: ip6, l4: { ICMPv6: { type, code } } });
  assert.equal(icmp(128, 0), 'ICMPv6 EchoRequest');
  assert.equal(icmp(129, 0), 'ICMPv6 EchoReply');
  assert.equal(icmp(135, 0), 'ICMPv6 NeighborSolicitation');
  assert.equal(icmp(136, 0), 'ICMPv6 NeighborAdvertisement');
  assert.equal(icmp(1, 4), 'ICMPv6 DestinationUnreachable(PortUnreachable)');
  assert.equal(icmp(3, 0), 'ICMPv6 TimeExceeded(HopLimitExceeded)');
  assert.equal(icmp(2, 0), 'ICMPv6 PacketTooBig');
  assert.equal(icmp(200, 1), 'ICMPv6 200(1)');
});

test('without an L4 layer: the IP version, else Ethernet, else nothing', () => {
  assert.equal(summary({ IP: ip4 }), 'IPv4');
  assert.equal(summary({ IP: ip6 }), 'IPv6');
  assert.equal(
    summary({ ethernet: { source: 'aa:bb:cc:dd:ee:ff', destination: 'ff:ff:ff:ff:ff:ff' } }),
    'Ethernet',
  );
  assert.equal(summary({}), '');
});
