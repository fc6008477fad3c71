// The values of observe's filter flags: each parser turns the text given into what the FlowFilter
// field holds, or refuses it with one line naming the flag and what it accepts.
import { create } from '@bufbuild/protobuf';
import {
  EventTypeFilterSchema,
  NetworkInterfaceSchema,
  TCPFlagsSchema,
  WorkloadSchema,
  enumNames,
  enumValueByName,
  eventTypeNames,
  mechanismNames,
  traceObservationPointNames,
  type EventTypeFilter,
  type Mechanism,
  type NetworkInterface,
  type TCPFlags,
  type Workload,
} from '@wirescope/flow';
import type { GivenFlag } from '../args.js';
import { UsageError } from '../command.js';

/** Where a filter flag's value goes: both sides of an either-side flag, or one side. */
export type Side = 'either' | 'source' | 'destination';

export interface ValueContext {
  /** The flag as typed ("-n" or "--namespace"), for the error message. */
  flag: string;
  /** Set for the flags of a source/destination family: --pod either, --from-pod, --to-pod. */
  side?: Side | undefined;
  /** Every flag given, for a value another flag qualifies (a pod name by --namespace). */
  given: readonly GivenFlag[];
}

/** Parses a flag's value; undefined adds nothing to the filter (the flag still ends a --not). */
export type ParseValue<T> = (value: string, context: ValueContext) => T | undefined;

export const text: ParseValue<string> = (v) => v;

/** For the boolean filter flags: the constant each one adds. */
export const always =
  <T>(value: T): ParseValue<T> =>
  () =>
    value;

const podFlags = new Set(['pod', 'from-pod', 'to-pod']);

/** hubble: with pod flags, --namespace only qualifies their names; alone it matches "NS/" pods. */
export const namespaceSelector: ParseValue<string> = (v, { side, given }) =>
  side === 'either' && given.some((g) => podFlags.has(g.name)) ? undefined : `${v}/`;

/** "NS/POD" as given, else in the first --namespace (default "default"). */
export const podName: ParseValue<string> = (v, { given }) =>
  v.includes('/') ? v : `${given.find((g) => g.name === 'namespace')?.value ?? 'default'}/${v}`;

export const numericIdentity: ParseValue<number> = (v, { flag }) => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} "${v}" is not a numeric identity`);
  return Number(v);
};

export const workload: ParseValue<Workload> = (name) => create(WorkloadSchema, { name });

export const networkInterface: ParseValue<NetworkInterface> = (name) =>
  create(NetworkInterfaceSchema, { name });

const protocols = ['tcp', 'udp', 'icmpv4', 'icmpv6', 'icmp', 'sctp', 'http', 'dns'];

export const protocol: ParseValue<string> = (v) => {
  const p = v.toLowerCase();
  if (!protocols.includes(p))
    throw new UsageError(`--protocol "${v}" is unknown; accepted: ${protocols.join(', ')}`);
  return p;
};

/** A value of a proto enum by name, any case; the UNKNOWN value only when asked for by name. */
export function enumValue(desc: Parameters<typeof enumValueByName>[0]): ParseValue<number> {
  return (v, { flag }) => {
    const n = enumValueByName(desc, v);
    if (n === undefined || (n === 0 && !/UNKNOWN/i.test(v))) {
      throw new UsageError(
        `${flag} "${v}" is unknown; accepted: ${enumNames(desc)
          .filter((x) => !/UNKNOWN/.test(x))
          .join(', ')}`,
      );
    }
    return n;
  };
}

const pointByName = new Map(Object.entries(traceObservationPointNames).map(([k, v]) => [v, Number(k)]));
const traceEvent = 4;

/** TYPE or TYPE:SUB, the sub-type an observation point for trace and a number otherwise. */
export const eventType: ParseValue<EventTypeFilter> = (v) => {
  const [typeName, sub] = v.split(':');
  const type = eventTypeNames[typeName!];
  if (type === undefined)
    throw new UsageError(
      `--type "${v}" is unknown; accepted: ${Object.keys(eventTypeNames).join(', ')} (trace:POINT, drop:REASON-NUMBER)`,
    );
  let subType: number | undefined;
  if (sub !== undefined) {
    subType = type === traceEvent ? pointByName.get(sub) : /^\d+$/.test(sub) ? Number(sub) : undefined;
    if (subType === undefined)
      throw new UsageError(
        `--type "${v}": unknown sub-type "${sub}"; accepted for trace: ${[...pointByName.keys()].join(', ')}`,
      );
  }
  return create(EventTypeFilterSchema, { type, matchSubType: subType !== undefined, subType: subType ?? 0 });
};

const tcpFlagNames = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'];

/** "SYN,ACK": one filter entry matching flows with all the flags listed. */
export const tcpFlags: ParseValue<TCPFlags> = (v) => {
  const flags: Record<string, boolean> = {};
  for (const raw of v.split(',')) {
    const f = raw.trim().toUpperCase();
    if (!tcpFlagNames.includes(f))
      throw new UsageError(`--tcp-flags "${raw}" is unknown; accepted: ${tcpFlagNames.join(', ')}`);
    flags[f] = true;
  }
  return create(TCPFlagsSchema, flags);
};

const ipVersions: Record<string, number> = { v4: 1, ipv4: 1, '4': 1, v6: 2, ipv6: 2, '6': 2 };

export const ipVersion: ParseValue<number> = (v) => {
  const version = ipVersions[v.toLowerCase()];
  if (!version) throw new UsageError(`--ip-version "${v}" is unknown; accepted: v4, v6`);
  return version;
};

export const mechanism: ParseValue<Mechanism> = (v) => {
  const m = mechanismNames[v.toLowerCase()];
  if (m === undefined)
    throw new UsageError(
      `--mechanism "${v}" is unknown; accepted: ${Object.keys(mechanismNames).join(', ')}`,
    );
  return m;
};

export const peerNode: ParseValue<string> = (v) => {
  if (v === '') throw new UsageError('--peer needs a node name');
  return v;
};
