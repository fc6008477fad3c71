// The flat flow record of the agent's hot path. Enrich fills one plain object per event (scalars,
// strings and references to shared, pre-encoded endpoints and extensions); the record writer
// (record-writer.ts) turns it into the GetFlowsResponse bytes the ring keeps and every client
// shares; filters run on it (record-filter.ts). A flow.Flow message is built from a record only
// where a caller needs an object (hooks, JSON, field masks), and it encodes to exactly the
// writer's bytes (record.test.ts checks both ways).
// A protobuf-es Flow graph was ~10 objects per flow; this is one, plus its uuid string.
import { clone, create, toBinary } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import {
  CiliumEventTypeSchema,
  EndpointSchema,
  FlowSchema,
  IPSchema,
  Layer4Schema,
  NetworkInterfaceSchema,
  TCPFlagsSchema,
  type Endpoint,
  type Flow,
  type TCPFlags,
} from './gen/flow/flow_pb.js';
import { messageFactory } from './factory.js';
import { parseLabel, type ParsedLabel } from './labels.js';
import { l4Summary } from './summary.js';

/** Flow.l4 in a record: which Layer4 oneof case, or none at all. */
export const RecordL4 = {
  /** no l4 message */
  ABSENT: -1,
  /** an l4 message with no protocol set */
  EMPTY: 0,
  TCP: 1,
  UDP: 2,
  ICMPv4: 3,
  ICMPv6: 4,
  SCTP: 5,
} as const;

function deepFreeze<T extends object>(message: T): T {
  for (const value of Object.values(message))
    if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) deepFreeze(value);
  return Object.freeze(message);
}

/**
 * An Endpoint message shared by the flows of one endpoint, frozen, with its wire bytes: the
 * writer copies them, and GetNamespaces reads the key cached here instead of hashing per flow.
 */
export class FlowEndpoint {
  readonly message: Endpoint;
  readonly bytes: Uint8Array;
  private keyCluster: string | undefined;
  private key = '';
  private parsed: readonly ParsedLabel[] | undefined;

  /** Takes `message` over: it is frozen all the way down (nothing may change it later). */
  constructor(message: Endpoint) {
    this.message = deepFreeze(message);
    this.bytes = toBinary(EndpointSchema, message);
  }

  /** "cluster/namespace", the endpoint's cluster or else `defaultCluster`. */
  namespaceKey(defaultCluster: string): string {
    if (this.keyCluster !== defaultCluster) {
      this.key = `${this.message.clusterName || defaultCluster}/${this.message.namespace}`;
      this.keyCluster = defaultCluster;
    }
    return this.key;
  }

  /** The labels parsed once for every flow of the endpoint (label filters read them per flow). */
  get parsedLabels(): readonly ParsedLabel[] {
    return (this.parsed ??= this.message.labels.map(parseLabel));
  }
}

/** A google.protobuf.Any for Flow.extensions, shared and frozen like FlowEndpoint, with its bytes. */
export class FlowExtension {
  readonly message: Any;
  readonly bytes: Uint8Array;

  constructor(message: Any) {
    this.message = deepFreeze(message);
    this.bytes = toBinary(AnySchema, message);
  }
}

/**
 * The fields of flow.Flow that the agent's enrich stage sets, flat. Numbers are the proto
 * values (enums as numbers); -1 marks a message or wrapper that is absent. A field added here
 * is read by record-filter.ts too, where a filter selects on it.
 */
export interface FlowRecord {
  /** Flow.time (always present: every live flow has one). */
  timeSeconds: number;
  timeNanos: number;
  uuid: string;
  verdict: number;
  dropReason: number;
  /** Flow.IP present; then its fields. */
  hasIP: boolean;
  ipSource: string;
  ipDestination: string;
  ipVersion: number;
  ipEncrypted: boolean;
  /** RecordL4: the Layer4 case; ports for TCP/UDP/SCTP, type/code for ICMP. */
  l4: number;
  sourcePort: number;
  destinationPort: number;
  /** TCP flags as the kernel's flag byte (FIN 0x01 ... CWR 0x80, NS 0x100); -1: no flags message. */
  tcpFlags: number;
  icmpType: number;
  icmpCode: number;
  source: FlowEndpoint | undefined;
  destination: FlowEndpoint | undefined;
  /** Flow.Type */
  type: number;
  nodeName: string;
  /** Flow.event_type.type, -1: no event_type; then its sub_type. */
  eventType: number;
  eventSubType: number;
  trafficDirection: number;
  policyMatchType: number;
  traceObservationPoint: number;
  traceReason: number;
  dropReasonDesc: number;
  /** Flow.is_reply: -1 absent, 0 false, 1 true. */
  isReply: number;
  /** Flow.interface: -1 absent; then its name. */
  interfaceIndex: number;
  interfaceName: string;
  summary: string;
  extensions: FlowExtension | undefined;
}

/** A record with every field at its zero (one object literal: every record has the same shape). */
export function newFlowRecord(): FlowRecord {
  return {
    timeSeconds: 0,
    timeNanos: 0,
    uuid: '',
    verdict: 0,
    dropReason: 0,
    hasIP: false,
    ipSource: '',
    ipDestination: '',
    ipVersion: 0,
    ipEncrypted: false,
    l4: RecordL4.ABSENT,
    sourcePort: 0,
    destinationPort: 0,
    tcpFlags: -1,
    icmpType: 0,
    icmpCode: 0,
    source: undefined,
    destination: undefined,
    type: 0,
    nodeName: '',
    eventType: -1,
    eventSubType: 0,
    trafficDirection: 0,
    policyMatchType: 0,
    traceObservationPoint: 0,
    traceReason: 0,
    dropReasonDesc: 0,
    isReply: -1,
    interfaceIndex: -1,
    interfaceName: '',
    summary: '',
    extensions: undefined,
  };
}

/** Time of a record in µs, as the ring keys flows (sub-µs nanos dropped). */
export function recordTimeMicros(r: FlowRecord): number {
  return r.timeSeconds * 1e6 + Math.floor(r.timeNanos / 1000);
}

/** Cilium's Summary for the record's L3/L4 layers (see ciliumSummary). */
export function recordSummary(r: FlowRecord): string {
  return l4Summary(r.l4, r.tcpFlags, r.icmpType, r.icmpCode, r.hasIP ? r.ipVersion : 0);
}

const newFlow = messageFactory(FlowSchema);
const newIP = messageFactory(IPSchema);
const newLayer4 = messageFactory(Layer4Schema);
const newTCPFlags = messageFactory(TCPFlagsSchema);
const newEventType = messageFactory(CiliumEventTypeSchema);
const newInterface = messageFactory(NetworkInterfaceSchema);
/** TCPFlags fields in the order of the kernel's flag bits (FlowRecord.tcpFlags). */
export const tcpFlagNames = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

/** A TCPFlags message as FlowRecord.tcpFlags bits. */
export function tcpFlagBits(flags: TCPFlags): number {
  let bits = 0;
  for (let i = 0; i < tcpFlagNames.length; i++) if (flags[tcpFlagNames[i]!]) bits |= 1 << i;
  return bits;
}

/** The flow.Flow message of a record: toBinary of it is the record writer's flow bytes. */
export function recordToFlow(r: FlowRecord): Flow {
  const flow = newFlow();
  flow.time = { $typeName: 'google.protobuf.Timestamp', seconds: BigInt(r.timeSeconds), nanos: r.timeNanos };
  flow.uuid = r.uuid;
  flow.verdict = r.verdict;
  flow.dropReason = r.dropReason;
  if (r.hasIP) {
    const ip = newIP();
    ip.source = r.ipSource;
    ip.destination = r.ipDestination;
    ip.ipVersion = r.ipVersion;
    ip.encrypted = r.ipEncrypted;
    flow.IP = ip;
  }
  if (r.l4 !== RecordL4.ABSENT) flow.l4 = layer4(r);
  flow.source = r.source?.message;
  flow.destination = r.destination?.message;
  flow.Type = r.type;
  flow.nodeName = r.nodeName;
  if (r.eventType >= 0) {
    const eventType = newEventType();
    eventType.type = r.eventType;
    eventType.subType = r.eventSubType;
    flow.eventType = eventType;
  }
  flow.trafficDirection = r.trafficDirection;
  flow.policyMatchType = r.policyMatchType;
  flow.traceObservationPoint = r.traceObservationPoint;
  flow.traceReason = r.traceReason;
  flow.dropReasonDesc = r.dropReasonDesc;
  if (r.isReply >= 0) flow.isReply = r.isReply === 1;
  if (r.interfaceIndex >= 0) {
    const iface = newInterface();
    iface.index = r.interfaceIndex;
    iface.name = r.interfaceName;
    flow.interface = iface;
  }
  flow.Summary = r.summary;
  flow.extensions = r.extensions?.message;
  return flow;
}

function layer4(r: FlowRecord): Flow['l4'] {
  const l4 = newLayer4();
  const ports = { sourcePort: r.sourcePort, destinationPort: r.destinationPort };
  switch (r.l4) {
    case RecordL4.TCP: {
      let flags: TCPFlags | undefined;
      if (r.tcpFlags >= 0) {
        flags = newTCPFlags();
        for (let i = 0; i < tcpFlagNames.length; i++)
          if (r.tcpFlags & (1 << i)) flags[tcpFlagNames[i]!] = true;
      }
      l4.protocol = { case: 'TCP', value: { $typeName: 'flow.TCP', ...ports, flags } };
      break;
    }
    case RecordL4.UDP:
      l4.protocol = { case: 'UDP', value: { $typeName: 'flow.UDP', ...ports } };
      break;
    case RecordL4.SCTP:
      l4.protocol = { case: 'SCTP', value: { $typeName: 'flow.SCTP', ...ports } };
      break;
    case RecordL4.ICMPv4:
      l4.protocol = {
        case: 'ICMPv4',
        value: { $typeName: 'flow.ICMPv4', type: r.icmpType, code: r.icmpCode },
      };
      break;
    case RecordL4.ICMPv6:
      l4.protocol = {
        case: 'ICMPv6',
        value: { $typeName: 'flow.ICMPv6', type: r.icmpType, code: r.icmpCode },
      };
      break;
  }
  return l4;
}

/**
 * The record of a flow message's record fields (replaying recordings into the live path, tests).
 * Lossy: fields enrich never sets (ethernet, l7, names, services, node labels, policies, ...) are
 * not in a record and are dropped; endpoints and extensions are copied (the flow is not frozen).
 * A flow without a time gets time 0.
 */
export function recordFromFlow(flow: Flow): FlowRecord {
  const r = newFlowRecord();
  r.timeSeconds = Number(flow.time?.seconds ?? 0n);
  r.timeNanos = flow.time?.nanos ?? 0;
  r.uuid = flow.uuid;
  r.verdict = flow.verdict;
  r.dropReason = flow.dropReason;
  if (flow.IP) {
    r.hasIP = true;
    r.ipSource = flow.IP.source;
    r.ipDestination = flow.IP.destination;
    r.ipVersion = flow.IP.ipVersion;
    r.ipEncrypted = flow.IP.encrypted;
  }
  const l4 = flow.l4?.protocol;
  if (flow.l4) r.l4 = RecordL4.EMPTY;
  switch (l4?.case) {
    case 'TCP':
      r.l4 = RecordL4.TCP;
      if (l4.value.flags) r.tcpFlags = tcpFlagBits(l4.value.flags);
      r.sourcePort = l4.value.sourcePort;
      r.destinationPort = l4.value.destinationPort;
      break;
    case 'UDP':
    case 'SCTP':
      r.l4 = RecordL4[l4.case];
      r.sourcePort = l4.value.sourcePort;
      r.destinationPort = l4.value.destinationPort;
      break;
    case 'ICMPv4':
    case 'ICMPv6':
      r.l4 = RecordL4[l4.case];
      r.icmpType = l4.value.type;
      r.icmpCode = l4.value.code;
      break;
  }
  if (flow.source) r.source = new FlowEndpoint(clone(EndpointSchema, flow.source));
  if (flow.destination) r.destination = new FlowEndpoint(clone(EndpointSchema, flow.destination));
  r.type = flow.Type;
  r.nodeName = flow.nodeName;
  if (flow.eventType) {
    r.eventType = flow.eventType.type;
    r.eventSubType = flow.eventType.subType;
  }
  r.trafficDirection = flow.trafficDirection;
  r.policyMatchType = flow.policyMatchType;
  r.traceObservationPoint = flow.traceObservationPoint;
  r.traceReason = flow.traceReason;
  r.dropReasonDesc = flow.dropReasonDesc;
  if (flow.isReply !== undefined) r.isReply = flow.isReply ? 1 : 0;
  if (flow.interface) {
    r.interfaceIndex = flow.interface.index;
    r.interfaceName = flow.interface.name;
  }
  r.summary = flow.Summary;
  if (flow.extensions) r.extensions = new FlowExtension(create(AnySchema, flow.extensions));
  return r;
}
