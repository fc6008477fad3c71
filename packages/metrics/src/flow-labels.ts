/**
 * Hubble's label values derived from a flow (Cilium pkg/hubble/api/v1 and gopacket's ICMP
 * type-code names), so that series match the ones Hubble's own dashboards and alerts query.
 */
import { IPVersion, TrafficDirection, Verdict, type Flow } from '@wirescope/flow';
import { traceObservationPointNames } from '@wirescope/flow';

/** gopacket's ICMP type-code names, the `type` label of hubble_icmp_total (shared with Flow.Summary). */
export { icmpTypeName } from '@wirescope/flow';

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
