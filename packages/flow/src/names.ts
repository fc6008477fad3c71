// Human names Hubble prints for datapath numbers (cilium pkg/monitor/api), and enum name tables.
import type { DescEnum } from '@bufbuild/protobuf';

/** Monitor message types carried in Flow.event_type.type. */
export const MonitorType = {
  DROP: 1,
  DEBUG: 2,
  CAPTURE: 3,
  TRACE: 4,
  POLICY_VERDICT: 5,
  RECORD_CAPTURE: 6,
  TRACE_SOCK: 7,
  L7: 129,
  AGENT: 130,
} as const;

/** Names accepted by `--type` (hubble's event type names). */
export const eventTypeNames: Record<string, number> = {
  drop: 1,
  debug: 2,
  capture: 3,
  trace: 4,
  'policy-verdict': 5,
  recorder: 6,
  'trace-sock': 7,
  l7: 129,
  agent: 130,
};

/** Trace observation points as the datapath numbers them (event_type.sub_type of trace events). */
export const traceObservationPointNames: Record<number, string> = {
  0: 'to-endpoint',
  1: 'to-proxy',
  2: 'to-host',
  3: 'to-stack',
  4: 'to-overlay',
  5: 'from-endpoint',
  6: 'from-proxy',
  7: 'from-host',
  8: 'from-stack',
  9: 'from-overlay',
  10: 'from-network',
  11: 'to-network',
  12: 'from-crypto',
  13: 'to-crypto',
};

/** Cilium's drop reason descriptions (pkg/monitor/api/drop.go), the subset Wirescope emits or may meet. */
export const dropReasonDescriptions: Record<number, string> = {
  130: 'Invalid source mac',
  131: 'Invalid destination mac',
  132: 'Invalid source ip',
  133: 'Policy denied',
  134: 'Invalid packet',
  135: 'CT: Truncated or invalid header',
  136: 'CT: Missing TCP ACK flag',
  137: 'CT: Unknown L4 protocol',
  138: "CT: Can't create entry from packet",
  139: 'Unsupported L3 protocol',
  140: 'Missed tail call',
  141: 'Error writing to packet',
  142: 'Unknown L4 protocol',
  143: 'Unknown ICMPv4 code',
  144: 'Unknown ICMPv4 type',
  145: 'Unknown ICMPv6 code',
  146: 'Unknown ICMPv6 type',
  151: 'Stale or unroutable IP',
  153: 'Error while correcting L3 checksum',
  154: 'Error while correcting L4 checksum',
  160: 'No tunnel/encapsulation endpoint (datapath BUG!)',
  169: 'FIB lookup failed',
  171: 'Invalid identity',
  172: 'Unknown sender',
  181: 'Policy denied by denylist',
  189: 'Authentication required',
  195: 'Traffic is unencrypted',
  196: 'TTL exceeded',
};

/** Cilium's reserved security identities, printed by name. */
export const reservedIdentityNames: Record<number, string> = {
  1: 'host',
  2: 'world',
  3: 'unmanaged',
  4: 'health',
  5: 'init',
  6: 'remote-node',
  7: 'kube-apiserver',
  8: 'ingress',
  9: 'world-ipv4',
  10: 'world-ipv6',
};

/** Enum value name -> number, for parsing user input and JSON. */
export function enumValueByName(desc: DescEnum, name: string): number | undefined {
  const upper = name.toUpperCase();
  for (const v of desc.values) {
    if (v.name === name || v.name.toUpperCase() === upper) return v.number;
  }
  return undefined;
}

export function enumName(desc: DescEnum, value: number): string {
  return desc.values.find((v) => v.number === value)?.name ?? String(value);
}

export function enumNames(desc: DescEnum): string[] {
  return desc.values.map((v) => v.name);
}
