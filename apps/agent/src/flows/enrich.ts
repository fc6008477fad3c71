/**
 * Enrichment: decoded datapath events -> Hubble-shaped flows (@wirescope/flow) and handshake
 * records. Everything outside the event comes through injected getters, so this is pure and
 * unit-tested without a cluster.
 */
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { Any, Timestamp } from '@bufbuild/protobuf/wkt';
import {
  DropReason,
  EndpointSchema,
  FlowSchema,
  FlowType,
  HandshakeEventSchema,
  IPSchema,
  IPVersion,
  Layer4Schema,
  Mechanism,
  TCPFlagsSchema,
  TraceObservationPoint,
  TrafficDirection,
  Verdict,
  WorkloadSchema,
  ciliumSummary,
  kernelDropSubType,
  messageFactory,
  packedEncryption,
  type Endpoint,
  type Flow,
  type HandshakeEvent as HandshakeRecord,
} from '@wirescope/flow';
import {
  ENUMS,
  type DropEvent,
  type HandshakeEvent,
  type PacketInfo,
  type TraceEvent,
} from '@wirescope/events';
import type { PolicyRef } from '@wirescope/policy';

export interface EndpointInfo {
  namespace: string;
  pod: string;
  labels: Record<string, string>;
  identity: number;
  node: string;
}

export interface NodeInfo {
  name: string;
  underlayIP: string;
  publicKey?: string;
}

/** What enrichment needs from the rest of the agent (all synchronous lookups on caches). */
export interface EnrichContext {
  nodeName: string;
  endpointByIP(ip: string): EndpointInfo | undefined;
  nodeById(id: number): NodeInfo | undefined;
  nodeByUnderlayIP(ip: string): NodeInfo | undefined;
  interfaceName(ifindex: number): string | undefined;
  /** Receiver index this node last learnt for sending to the peer at this underlay address. */
  receiverIndexFor(peerAddress: string): number | undefined;
  kernelDropReasonName(reason: number): string | undefined;
  /** CLOCK_MONOTONIC ns -> Unix ms. */
  wallClockMs(ktimeNs: bigint): number;
  /** CLOCK_MONOTONIC ns -> Unix ns: flow times at the kernel's resolution, as Hubble's (else ms). */
  wallClockNs?(ktimeNs: bigint): bigint;
  /** The policies a verdict record's cookie names (policy/engine.ts); absent: verdicts name none. */
  policyAttribution?(cookie: number): PolicyRef[];
  /** The policies that turned default deny on for the endpoint behind a veth. */
  policyEnforcedBy?(ifindex: number, direction: 'ingress' | 'egress'): PolicyRef[];
  /** The policies that demand encryption for traffic to the endpoint behind a veth. */
  policyEncryptionBy?(ifindex: number): PolicyRef[];
}

const F = ENUMS.ws_trace_flag;
const MONITOR_DROP = 1;
const MONITOR_TRACE = 4;
const RESERVED_LABELS: Record<number, string> = {
  1: 'reserved:host',
  2: 'reserved:world',
  6: 'reserved:remote-node',
};

export function observationPoint(point: number): TraceObservationPoint {
  return point === ENUMS.ws_trace_point.WS_TRACE_TO_ENDPOINT
    ? TraceObservationPoint.TO_ENDPOINT
    : (point as TraceObservationPoint);
}

// One zero message per call, without create()'s descriptor walk (it led the hot path's profile).
const newFlow = messageFactory(FlowSchema);
const newEndpoint = messageFactory(EndpointSchema);
const newIP = messageFactory(IPSchema);
const newLayer4 = messageFactory(Layer4Schema);
const newTCPFlags = messageFactory(TCPFlagsSchema);

/**
 * Endpoint messages shared by the flows of one endpoint (and identity) until the next sync
 * replaces its EndpointInfo: building labels and workloads per flow was a large part of enrich.
 * Flows are never mutated after they enter the ring, so sharing is safe.
 */
const endpointMessages = new WeakMap<EndpointInfo, Map<number, Endpoint>>();
const reservedEndpoints = new Map<number, Endpoint>();

/**
 * Shared endpoint messages are frozen all the way down: nothing can change one under the flows
 * that share it, and the compiled encoder writes a frozen message's bytes once (compileEncoder).
 */
function deepFreeze<T extends object>(message: T): T {
  for (const value of Object.values(message))
    if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) deepFreeze(value);
  return Object.freeze(message);
}

/**
 * Flow UUIDs: a random 64-bit prefix per process and a 62-bit counter, laid out as an RFC 9562
 * version 4 UUID. Unique like randomUUID()'s, at a fraction of its cost per flow (it was 4% of
 * the agent's profile); only the counter half changes from one flow to the next.
 */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const uuidPrefix = (() => {
  const b = randomBytes(8);
  b[6] = (b[6]! & 0x0f) | 0x40;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-`;
})();
/** The counter's top 30 bits (variant 10 in front), as "yxxx-xxxx", redone every 2^32 flows. */
let uuidHigh = randomBytes(4).readUInt32LE(0) & 0x3fffffff;
let uuidHighHex = '';
let uuidLow = 0;

function flowUuid(): string {
  if (uuidLow === 0 || uuidHighHex === '') {
    if (uuidHighHex !== '') uuidHigh = (uuidHigh + 1) & 0x3fffffff;
    const h = (0x80000000 | uuidHigh) >>> 0;
    uuidHighHex = `${HEX[h >>> 24]}${HEX[(h >>> 16) & 255]}-${HEX[(h >>> 8) & 255]}${HEX[h & 255]}`;
  }
  const n = uuidLow;
  uuidLow = (uuidLow + 1) >>> 0;
  return `${uuidPrefix}${uuidHighHex}${HEX[n >>> 24]}${HEX[(n >>> 16) & 255]}${HEX[(n >>> 8) & 255]}${HEX[n & 255]}`;
}

function endpointFor(ctx: EnrichContext, ip: string, identity: number): Endpoint {
  const ep = ctx.endpointByIP(ip);
  if (ep) {
    let byIdentity = endpointMessages.get(ep);
    if (byIdentity === undefined) endpointMessages.set(ep, (byIdentity = new Map()));
    let message = byIdentity.get(identity);
    if (message === undefined) {
      message = newEndpoint();
      message.identity = ep.identity || identity;
      message.namespace = ep.namespace;
      message.podName = ep.pod;
      message.labels = Object.entries(ep.labels)
        .map(([k, v]) => `k8s:${k}=${v}`)
        .sort();
      message.workloads = [create(WorkloadSchema, { name: ep.labels.app ?? ep.pod, kind: 'Pod' })];
      deepFreeze(message);
      byIdentity.set(identity, message);
    }
    return message;
  }
  const node = ctx.nodeByUnderlayIP(ip);
  const reserved = node ? (node.name === ctx.nodeName ? 1 : 6) : identity || 2;
  let message = reservedEndpoints.get(reserved);
  if (message === undefined) {
    message = newEndpoint();
    message.identity = reserved;
    const label = RESERVED_LABELS[reserved];
    if (label) message.labels = [label];
    deepFreeze(message);
    if (reservedEndpoints.size < 4096) reservedEndpoints.set(reserved, message);
  }
  return message;
}

/** A kernel drop's skb_drop_reason, by value and (when vmlinux names it) by name. */
interface KernelDrop {
  code: number;
  name: string;
}

export function baseFlow(ctx: EnrichContext, ktimeNs: bigint, p: PacketInfo, kernelDrop?: KernelDrop): Flow {
  const flow = newFlow();
  flow.time = eventTime(ctx, ktimeNs);
  flow.uuid = flowUuid();
  flow.Type = FlowType.L3_L4;
  flow.nodeName = ctx.nodeName;
  const encrypted = (p.flags & F.WS_F_ENCRYPTED) !== 0;
  const ip = newIP();
  ip.source = p.saddr;
  ip.destination = p.daddr;
  ip.ipVersion = p.family === 6 ? IPVersion.IPv6 : IPVersion.IPv4;
  ip.encrypted = encrypted;
  flow.IP = ip;
  flow.source = endpointFor(ctx, p.saddr, p.srcIdentity);
  flow.destination = endpointFor(ctx, p.daddr, p.dstIdentity);
  flow.trafficDirection =
    p.direction === 'egress'
      ? TrafficDirection.EGRESS
      : p.direction === 'ingress'
        ? TrafficDirection.INGRESS
        : TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN;
  // kernel drops happen in any namespace: their ifindex is not one of this node's interfaces
  if (p.ifindex && !(p.flags & F.WS_F_KERNEL))
    flow.interface = {
      $typeName: 'flow.NetworkInterface',
      index: p.ifindex,
      name: ctx.interfaceName(p.ifindex) ?? '',
    };
  if (p.flags & F.WS_F_REPLY_KNOWN) flow.isReply = (p.flags & F.WS_F_IS_REPLY) !== 0;
  flow.l4 = layer4(p);
  flow.Summary = ciliumSummary(flow);
  const peer = p.peerNodeId ? ctx.nodeById(p.peerNodeId) : undefined;
  const leak = (p.flags & F.WS_F_LEAK) !== 0;
  const receiverIndex = encrypted && peer ? (ctx.receiverIndexFor(peer.underlayIP) ?? 0) : 0;
  flow.extensions = kernelDrop
    ? packedEncryption({
        mechanism: encrypted ? Mechanism.WIREGUARD : Mechanism.NONE,
        peerNode: peer?.name ?? '',
        peerPublicKey: peer?.publicKey ?? '',
        receiverIndex,
        leak,
        kernelDropReason: kernelDrop.name,
        kernelDropReasonCode: kernelDrop.code,
      })
    : encryptionFor(peer, encrypted, leak, receiverIndex);
  return flow;
}

/**
 * The packed Encryption of a forwarded or datapath-dropped flow, kept per peer object (a node
 * sync makes new ones, so a rotated key is never served stale) and per receiver index and flag
 * bits: packedEncryption's string key, built per flow, was 8% of the agent's profile.
 */
const encryptionByPeer = new WeakMap<NodeInfo, Map<number, Any>>();
const encryptionWithoutPeer = new Map<number, Any>();

function encryptionFor(
  peer: NodeInfo | undefined,
  encrypted: boolean,
  leak: boolean,
  receiverIndex: number,
): Any {
  let byKey = peer ? encryptionByPeer.get(peer) : encryptionWithoutPeer;
  if (byKey === undefined) encryptionByPeer.set(peer!, (byKey = new Map()));
  const key = receiverIndex * 4 + (encrypted ? 2 : 0) + (leak ? 1 : 0);
  let any = byKey.get(key);
  if (any === undefined) {
    if (byKey.size >= 1024) byKey.clear();
    any = packedEncryption({
      mechanism: encrypted ? Mechanism.WIREGUARD : Mechanism.NONE,
      peerNode: peer?.name ?? '',
      peerPublicKey: peer?.publicKey ?? '',
      receiverIndex,
      leak,
    });
    byKey.set(key, any);
  }
  return any;
}

const TCP_FLAG_BITS = [
  ['FIN', 0x01],
  ['SYN', 0x02],
  ['RST', 0x04],
  ['PSH', 0x08],
  ['ACK', 0x10],
  ['URG', 0x20],
  ['ECE', 0x40],
  ['CWR', 0x80],
] as const;

function layer4(p: PacketInfo): Flow['l4'] {
  const l4 = newLayer4();
  if (p.protocol === 6) {
    const flags = newTCPFlags();
    for (const [name, bit] of TCP_FLAG_BITS) if (p.tcpFlags & bit) flags[name] = true;
    l4.protocol = {
      case: 'TCP',
      value: { $typeName: 'flow.TCP', sourcePort: p.sport, destinationPort: p.dport, flags },
    };
  } else if (p.protocol === 17) {
    l4.protocol = {
      case: 'UDP',
      value: { $typeName: 'flow.UDP', sourcePort: p.sport, destinationPort: p.dport },
    };
  } else if (p.protocol === 1) {
    l4.protocol = { case: 'ICMPv4', value: { $typeName: 'flow.ICMPv4', type: p.icmpType, code: p.icmpCode } };
  } else if (p.protocol === 58) {
    l4.protocol = { case: 'ICMPv6', value: { $typeName: 'flow.ICMPv6', type: p.icmpType, code: p.icmpCode } };
  }
  return l4;
}

function eventTime(ctx: EnrichContext, ktimeNs: bigint): Timestamp {
  if (!ctx.wallClockNs) return timestamp(ctx.wallClockMs(ktimeNs));
  const ns = ctx.wallClockNs(ktimeNs);
  return {
    $typeName: 'google.protobuf.Timestamp',
    seconds: ns / 1_000_000_000n,
    nanos: Number(ns % 1_000_000_000n),
  };
}

function timestamp(ms: number): Timestamp {
  const whole = Math.floor(ms);
  const seconds = Math.floor(whole / 1000);
  return {
    $typeName: 'google.protobuf.Timestamp',
    seconds: BigInt(seconds),
    nanos: (whole - seconds * 1000) * 1e6,
  };
}

export function traceToFlow(ctx: EnrichContext, e: TraceEvent): Flow {
  const flow = baseFlow(ctx, e.header.ktimeNs, e.packet);
  flow.verdict = Verdict.FORWARDED;
  flow.eventType = { $typeName: 'flow.CiliumEventType', type: MONITOR_TRACE, subType: e.point };
  flow.traceObservationPoint = observationPoint(e.point);
  flow.traceReason = e.reason === 'new' ? 1 : 2;
  return flow;
}

export function dropToFlow(ctx: EnrichContext, e: DropEvent): Flow {
  if (!e.kernel) {
    const flow = baseFlow(ctx, e.header.ktimeNs, e.packet);
    flow.verdict = Verdict.DROPPED;
    flow.dropReason = e.reason;
    flow.eventType = { $typeName: 'flow.CiliumEventType', type: MONITOR_DROP, subType: e.reason & 0xff };
    flow.dropReasonDesc = e.reason as DropReason;
    flow.traceObservationPoint = observationPoint(e.point);
    return flow;
  }
  // a kernel skb_drop_reason is no Cilium reason: sub_type 255 says so (see kernelDropSubType)
  const name = ctx.kernelDropReasonName(e.reason) ?? '';
  const flow = baseFlow(ctx, e.header.ktimeNs, e.packet, { code: e.reason, name });
  flow.verdict = Verdict.DROPPED;
  flow.dropReason = kernelDropSubType;
  flow.eventType = { $typeName: 'flow.CiliumEventType', type: MONITOR_DROP, subType: kernelDropSubType };
  flow.dropReasonDesc = DropReason.DROP_REASON_UNKNOWN;
  flow.Summary = `${flow.Summary}; kernel drop: ${name || `reason ${e.reason}`}`;
  return flow;
}

/**
 * Handshake messages -> records, with the round trip of locally started handshakes (initiation
 * sent with sender index S, response received with receiver index S) and the receiver index to
 * use towards each peer (their sender index).
 */
export class HandshakeTracker {
  private pending = new Map<number, { ktimeNs: bigint; peer: string }>();
  /** By the peer's underlay address: handshakes may arrive before the node list does. */
  private receiverIndexes = new Map<string, number>();

  receiverIndexFor(peerAddress: string): number | undefined {
    return this.receiverIndexes.get(peerAddress);
  }

  toRecord(ctx: EnrichContext, e: HandshakeEvent): HandshakeRecord {
    const sent = e.direction === 'egress';
    const local = sent ? e.saddr : e.daddr;
    const peerAddress = sent ? e.daddr : e.saddr;
    const peer = ctx.nodeByUnderlayIP(peerAddress)?.name ?? '';
    let roundTripNs = 0n;
    let initiatedLocally = false;
    if (e.messageType === 1) {
      initiatedLocally = sent;
      if (sent) {
        this.pending.set(e.senderIndex, { ktimeNs: e.header.ktimeNs, peer });
        if (this.pending.size > 4096) this.pending.delete(this.pending.keys().next().value as number);
      } else {
        this.receiverIndexes.set(peerAddress, e.senderIndex);
      }
    } else if (e.messageType === 2) {
      initiatedLocally = !sent;
      if (!sent) {
        const started = this.pending.get(e.receiverIndex);
        if (started && e.header.ktimeNs >= started.ktimeNs) {
          roundTripNs = e.header.ktimeNs - started.ktimeNs;
          this.pending.delete(e.receiverIndex);
        }
        this.receiverIndexes.set(peerAddress, e.senderIndex);
      }
    }
    return create(HandshakeEventSchema, {
      time: eventTime(ctx, e.header.ktimeNs),
      nodeName: ctx.nodeName,
      peerNode: peer,
      localAddress: local,
      peerAddress,
      messageType: e.messageType,
      senderIndex: e.senderIndex,
      receiverIndex: e.receiverIndex,
      roundTripNs,
      initiatedLocally,
    });
  }
}
