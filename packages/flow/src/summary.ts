// Flow.Summary as Cilium's Hubble parser (pkg/hubble/parser/threefour) fills it: the name of the
// last layer it decoded, with gopacket's wording for TCP flags and ICMP types. The stock hubble
// printer prints this string verbatim, so it has to match to the letter.
import { IPVersion, type Flow, type TCPFlags } from './gen/flow/flow_pb.js';

/** Cilium's order (threefour getTCPFlags), which is not the bit order. */
const tcpFlagsInCiliumOrder = ['SYN', 'ACK', 'RST', 'FIN', 'PSH', 'URG', 'ECE', 'CWR', 'NS'] as const;

/** "TCP Flags: ..." by flag set (bit i = tcpFlagsInCiliumOrder[i]): 512 strings, built on first use. */
const tcpSummaries: (string | undefined)[] = new Array(1 << tcpFlagsInCiliumOrder.length);

function tcpSummary(flags: TCPFlags | undefined): string {
  let mask = 0;
  if (flags) {
    for (let i = 0; i < tcpFlagsInCiliumOrder.length; i++)
      if (flags[tcpFlagsInCiliumOrder[i]!]) mask |= 1 << i;
  }
  let summary = tcpSummaries[mask];
  if (summary === undefined) {
    const names = tcpFlagsInCiliumOrder.filter((_, i) => (mask & (1 << i)) !== 0);
    summary = `TCP Flags: ${names.join(', ')}`;
    tcpSummaries[mask] = summary;
  }
  return summary;
}

interface TypeCodeNames {
  type: string;
  /** undefined: the type has no codes (gopacket prints "(Code: n)" if one is set anyway). */
  codes?: Record<number, string>;
}

// gopacket layers/icmp4.go icmpv4TypeCodeInfo
const icmpv4: Record<number, TypeCodeNames> = {
  0: { type: 'EchoReply' },
  3: {
    type: 'DestinationUnreachable',
    codes: {
      0: 'Net',
      1: 'Host',
      2: 'Protocol',
      3: 'Port',
      4: 'FragmentationNeeded',
      5: 'SourceRoutingFailed',
      6: 'NetUnknown',
      7: 'HostUnknown',
      8: 'SourceIsolated',
      9: 'NetAdminProhibited',
      10: 'HostAdminProhibited',
      11: 'NetTOS',
      12: 'HostTOS',
      13: 'CommAdminProhibited',
      14: 'HostPrecedence',
      15: 'PrecedenceCutoff',
    },
  },
  4: { type: 'SourceQuench' },
  5: { type: 'Redirect', codes: { 0: 'Net', 1: 'Host', 2: 'TOS+Net', 3: 'TOS+Host' } },
  8: { type: 'EchoRequest' },
  9: { type: 'RouterAdvertisement' },
  10: { type: 'RouterSolicitation' },
  11: { type: 'TimeExceeded', codes: { 0: 'TTLExceeded', 1: 'FragmentReassemblyTimeExceeded' } },
  12: { type: 'ParameterProblem', codes: { 0: 'PointerIndicatesError', 1: 'MissingOption', 2: 'BadLength' } },
  13: { type: 'TimestampRequest' },
  14: { type: 'TimestampReply' },
  15: { type: 'InfoRequest' },
  16: { type: 'InfoReply' },
  17: { type: 'AddressMaskRequest' },
  18: { type: 'AddressMaskReply' },
};

// gopacket layers/icmp6.go icmpv6TypeCodeInfo
const icmpv6: Record<number, TypeCodeNames> = {
  1: {
    type: 'DestinationUnreachable',
    codes: {
      0: 'NoRouteToDst',
      1: 'AdminProhibited',
      2: 'BeyondScopeOfSrc',
      3: 'AddressUnreachable',
      4: 'PortUnreachable',
      5: 'SrcAddressFailedPolicy',
      6: 'RejectRouteToDst',
    },
  },
  2: { type: 'PacketTooBig' },
  3: { type: 'TimeExceeded', codes: { 0: 'HopLimitExceeded', 1: 'FragmentReassemblyTimeExceeded' } },
  4: {
    type: 'ParameterProblem',
    codes: { 0: 'ErroneousHeaderField', 1: 'UnrecognizedNextHeader', 2: 'UnrecognizedIPv6Option' },
  },
  128: { type: 'EchoRequest' },
  129: { type: 'EchoReply' },
  133: { type: 'RouterSolicitation' },
  134: { type: 'RouterAdvertisement' },
  135: { type: 'NeighborSolicitation' },
  136: { type: 'NeighborAdvertisement' },
  137: { type: 'Redirect' },
};

/** gopacket's ICMPv4TypeCode/ICMPv6TypeCode String() (also hubble_icmp_total's `type` label). */
export function icmpTypeName(family: 'IPv4' | 'IPv6', type: number, code: number): string {
  return icmpTypeCode(family === 'IPv4' ? icmpv4 : icmpv6, type, code);
}

function icmpTypeCode(table: Record<number, TypeCodeNames>, type: number, code: number): string {
  const names = table[type];
  if (!names) return `${type}(${code})`;
  if (!names.codes) return code === 0 ? names.type : `${names.type}(Code: ${code})`;
  const codeName = names.codes[code];
  return codeName === undefined ? `${names.type}(Code: ${code})` : `${names.type}(${codeName})`;
}

/**
 * The Summary Cilium gives an L3/L4 flow: "TCP Flags: SYN, ACK", "UDP", "SCTP",
 * "ICMPv4 EchoRequest", "ICMPv6 DestinationUnreachable(PortUnreachable)"; "IPv4"/"IPv6" when no L4
 * layer was decoded, "Ethernet" for a frame without IP, "" for nothing at all.
 */
export function ciliumSummary(flow: Flow): string {
  const l4 = flow.l4?.protocol;
  switch (l4?.case) {
    case 'TCP':
      return tcpSummary(l4.value.flags);
    case 'UDP':
      return 'UDP';
    case 'SCTP':
      return 'SCTP';
    case 'ICMPv4':
      return `ICMPv4 ${icmpTypeCode(icmpv4, l4.value.type, l4.value.code)}`;
    case 'ICMPv6':
      return `ICMPv6 ${icmpTypeCode(icmpv6, l4.value.type, l4.value.code)}`;
  }
  const version = flow.IP?.ipVersion;
  if (version === IPVersion.IPv4) return 'IPv4';
  if (version === IPVersion.IPv6) return 'IPv6';
  return flow.ethernet ? 'Ethernet' : '';
}

/** "TCP Flags: ..." by the kernel's flag byte (FIN 0x01 ... CWR 0x80, NS 0x100), built on first use. */
const tcpSummariesByBits: (string | undefined)[] = new Array(512);
const kernelOrder = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

function tcpSummaryOfBits(bits: number): string {
  let summary = tcpSummariesByBits[bits & 511];
  if (summary === undefined) {
    const flags: Partial<Record<(typeof kernelOrder)[number], boolean>> = {};
    kernelOrder.forEach((name, i) => {
      if (bits & (1 << i)) flags[name] = true;
    });
    summary = tcpSummary(flags as TCPFlags);
    tcpSummariesByBits[bits & 511] = summary;
  }
  return summary;
}

/**
 * ciliumSummary of a flow given flat (a FlowRecord's fields): `l4` is the Layer4 case (-1 none, 0
 * empty, 1 TCP, 2 UDP, 3 ICMPv4, 4 ICMPv6, 5 SCTP), `tcpFlags` the kernel's flag byte (-1: none).
 */
export function l4Summary(
  l4: number,
  tcpFlags: number,
  icmpType: number,
  icmpCode: number,
  ipVersion: number,
): string {
  switch (l4) {
    case 1:
      return tcpFlags < 0 ? tcpSummary(undefined) : tcpSummaryOfBits(tcpFlags);
    case 2:
      return 'UDP';
    case 5:
      return 'SCTP';
    case 3:
      return `ICMPv4 ${icmpTypeCode(icmpv4, icmpType, icmpCode)}`;
    case 4:
      return `ICMPv6 ${icmpTypeCode(icmpv6, icmpType, icmpCode)}`;
  }
  if (ipVersion === IPVersion.IPv4) return 'IPv4';
  if (ipVersion === IPVersion.IPv6) return 'IPv6';
  return '';
}
