/**
 * Hubble's label values derived from a flow (Cilium pkg/hubble/api/v1 and gopacket's ICMP
 * type-code names), so that series match the ones Hubble's own dashboards and alerts query.
 */
import { IPVersion, TrafficDirection, Verdict, type Flow } from '@wirescope/flow';
import { traceObservationPointNames } from '@wirescope/flow';

const MONITOR_DROP = 1;
const MONITOR_CAPTURE = 3;
const MONITOR_TRACE = 4;
const MONITOR_POLICY_VERDICT = 5;
const MONITOR_L7 = 129;

const L7_PROTOCOLS: Record<string, string> = { dns: 'DNS', http: 'HTTP', kafka: 'Kafka' };

/** v1.FlowProtocol */
export function flowProtocol(flow: Flow): string {
  const type = flow.eventType?.type ?? 0;
  if (type === MONITOR_L7) {
    return L7_PROTOCOLS[flow.l7?.record.case ?? ''] ?? 'Unknown L7';
  }
  if (
    type === MONITOR_DROP ||
    type === MONITOR_TRACE ||
    type === MONITOR_POLICY_VERDICT ||
    type === MONITOR_CAPTURE
  ) {
    return l4Protocol(flow) ?? 'Unknown L4';
  }
  return 'Unknown flow';
}

export function l4Protocol(flow: Flow): string | undefined {
  switch (flow.l4?.protocol.case) {
    case 'TCP':
      return 'TCP';
    case 'UDP':
      return 'UDP';
    case 'ICMPv4':
      return 'ICMPv4';
    case 'ICMPv6':
      return 'ICMPv6';
    case 'SCTP':
      return 'SCTP';
    default:
      return undefined;
  }
}

/** Table A of the reference: `type` and `subtype` of hubble_flows_processed_total. */
export function flowTypeLabels(flow: Flow): { type: string; subtype: string } {
  const type = flow.eventType?.type ?? 0;
  switch (type) {
    case MONITOR_L7: {
      return { type: 'L7', subtype: L7_PROTOCOLS[flow.l7?.record.case ?? ''] ?? '' };
    }
    case MONITOR_DROP:
      return { type: 'Drop', subtype: '' };
    case MONITOR_CAPTURE:
      return { type: 'Capture', subtype: '' };
    case MONITOR_TRACE:
      // a map lookup, as in Cilium: an unknown point is "", not a number
      return { type: 'Trace', subtype: traceObservationPointNames[flow.eventType?.subType ?? -1] ?? '' };
    case MONITOR_POLICY_VERDICT:
      return { type: 'PolicyVerdict', subtype: '' };
    default:
      return { type: 'Unknown', subtype: String(type) };
  }
}

export function verdictName(verdict: Verdict): string {
  return Verdict[verdict] ?? 'VERDICT_UNKNOWN';
}

export function ipFamily(flow: Flow): string {
  return IPVersion[flow.IP?.ipVersion ?? IPVersion.IP_NOT_USED] ?? 'IP_NOT_USED';
}

export function trafficDirectionName(flow: Flow): string {
  switch (flow.trafficDirection) {
    case TrafficDirection.INGRESS:
      return 'ingress';
    case TrafficDirection.EGRESS:
      return 'egress';
    default:
      return 'unknown';
  }
}

interface TypeInfo {
  name: string;
  codes?: Record<number, string>;
}

const ICMPV4_TYPES: Record<number, TypeInfo> = {
  0: { name: 'EchoReply' },
  3: {
    name: 'DestinationUnreachable',
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
  4: { name: 'SourceQuench' },
  5: { name: 'Redirect', codes: { 0: 'Net', 1: 'Host', 2: 'TOS+Net', 3: 'TOS+Host' } },
  8: { name: 'EchoRequest' },
  9: { name: 'RouterAdvertisement' },
  10: { name: 'RouterSolicitation' },
  11: { name: 'TimeExceeded', codes: { 0: 'TTLExceeded', 1: 'FragmentReassemblyTimeExceeded' } },
  12: { name: 'ParameterProblem', codes: { 0: 'PointerIndicatesError', 1: 'MissingOption', 2: 'BadLength' } },
  13: { name: 'Timestamp' },
  14: { name: 'TimestampReply' },
  15: { name: 'InfoRequest' },
  16: { name: 'InfoReply' },
  17: { name: 'AddressMaskRequest' },
  18: { name: 'AddressMaskReply' },
};

const ICMPV6_TYPES: Record<number, TypeInfo> = {
  1: {
    name: 'DestinationUnreachable',
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
  2: { name: 'PacketTooBig' },
  3: { name: 'TimeExceeded', codes: { 0: 'HopLimitExceeded', 1: 'FragmentReassemblyTimeExceeded' } },
  4: {
    name: 'ParameterProblem',
    codes: { 0: 'ErroneousHeaderField', 1: 'UnrecognizedNextHeader', 2: 'UnrecognizedIPv6Option' },
  },
  128: { name: 'EchoRequest' },
  129: { name: 'EchoReply' },
  133: { name: 'RouterSolicitation' },
  134: { name: 'RouterAdvertisement' },
  135: { name: 'NeighborSolicitation' },
  136: { name: 'NeighborAdvertisement' },
  137: { name: 'Redirect' },
};

/** gopacket's ICMPv4TypeCode/ICMPv6TypeCode String(), the `type` label of hubble_icmp_total. */
export function icmpTypeName(family: 'IPv4' | 'IPv6', type: number, code: number): string {
  const info = (family === 'IPv4' ? ICMPV4_TYPES : ICMPV6_TYPES)[type];
  if (!info) return `${type}(${code})`;
  if (!info.codes) return code === 0 ? info.name : `${info.name}(Code: ${code})`;
  const codeName = info.codes[code];
  return codeName === undefined ? `${info.name}(Code: ${code})` : `${info.name}(${codeName})`;
}
