/**
 * Enrichment: decoded datapath events -> Hubble-shaped flows (@wirescope/flow) and handshake
 * records. Everything outside the event comes through injected getters, so this is pure and
 * unit-tested without a cluster.
 */
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import {
  DropReason,
  EndpointSchema,
  FlowEndpoint,
  type FlowExtension,
  FlowType,
  HandshakeEventSchema,
  IPVersion,
  Mechanism,
  RecordL4,
  TraceObservationPoint,
  TrafficDirection,
  Verdict,
  WorkloadSchema,
  kernelDropSubType,
  messageFactory,
  newFlowRecord,
  packedEncryptionExtension,
  recordSummary,
  recordToFlow,
  type Flow,
  type FlowRecord,
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

const newEndpoint = messageFactory(EndpointSchema);

/**
 * Endpoints shared by the flows of one endpoint (and identity) until the next sync replaces its
 * EndpointInfo: building labels and workloads per flow was a large part of enrich. A
 * FlowEndpoint is frozen all the way down and carries its wire bytes, which the record writer
 * copies into every flow of the endpoint.
 */
const endpointMessages = new WeakMap<EndpointInfo, Map<number, FlowEndpoint>>();
const reservedEndpoints = new Map<number, FlowEndpoint>();

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

function endpointFor(ctx: EnrichContext, ip: string, identity: number): FlowEndpoint {
  const ep = ctx.endpointByIP(ip);
  if (ep) {
    let byIdentity = endpointMessages.get(ep);
    if (byIdentity === undefined) endpointMessages.set(ep, (byIdentity = new Map()));
    let shared = byIdentity.get(identity);
    if (shared === undefined) {
      const message = newEndpoint();
      message.identity = ep.identity || identity;
      message.namespace = ep.namespace;
      message.podName = ep.pod;
      message.labels = Object.entries(ep.labels)
        .map(([k, v]) => `k8s:${k}=${v}`)
        .sort();
      message.workloads = [create(WorkloadSchema, { name: ep.labels.app ?? ep.pod, kind: 'Pod' })];
      shared = new FlowEndpoint(message);
      byIdentity.set(identity, shared);
    }
    return shared;
  }
  const node = ctx.nodeByUnderlayIP(ip);
  const reserved = node ? (node.name === ctx.nodeName ? 1 : 6) : identity || 2;
  let shared = reservedEndpoints.get(reserved);
  if (shared === undefined) {
    const message = newEndpoint();
    message.identity = reserved;
    const label = RESERVED_LABELS[reserved];
    if (label) message.labels = [label];
    shared = new FlowEndpoint(message);
    if (reservedEndpoints.size < 4096) reservedEndpoints.set(reserved, shared);
  }
  return shared;
}

/** A kernel drop's skb_drop_reason, by value and (when vmlinux names it) by name. */
interface KernelDrop {
  code: number;
  name: string;
}

/**
 * The flow record every datapath event starts from (the live path: the observer writes its wire
 * bytes without a Flow message, see @wirescope/flow's FlowRecord).
 */
export function baseRecord(
  ctx: EnrichContext,
  ktimeNs: bigint,
  p: PacketInfo,
  kernelDrop?: KernelDrop,
): FlowRecord {
  const r = newFlowRecord();
  eventTime(ctx, ktimeNs, r);
  r.uuid = flowUuid();
  r.type = FlowType.L3_L4;
  r.nodeName = ctx.nodeName;
  const encrypted = (p.flags & F.WS_F_ENCRYPTED) !== 0;
  r.hasIP = true;
  r.ipSource = p.saddr;
  r.ipDestination = p.daddr;
  r.ipVersion = p.family === 6 ? IPVersion.IPv6 : IPVersion.IPv4;
  r.ipEncrypted = encrypted;
  r.source = endpointFor(ctx, p.saddr, p.srcIdentity);
  r.destination = endpointFor(ctx, p.daddr, p.dstIdentity);
  r.trafficDirection =
    p.direction === 'egress'
      ? TrafficDirection.EGRESS
      : p.direction === 'ingress'
        ? TrafficDirection.INGRESS
        : TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN;
  // kernel drops happen in any namespace: their ifindex is not one of this node's interfaces
  if (p.ifindex && !(p.flags & F.WS_F_KERNEL)) {
    r.interfaceIndex = p.ifindex;
    r.interfaceName = ctx.interfaceName(p.ifindex) ?? '';
  }
  if (p.flags & F.WS_F_REPLY_KNOWN) r.isReply = p.flags & F.WS_F_IS_REPLY ? 1 : 0;
  layer4(p, r);
  r.summary = recordSummary(r);
  const peer = p.peerNodeId ? ctx.nodeById(p.peerNodeId) : undefined;
  const leak = (p.flags & F.WS_F_LEAK) !== 0;
  const receiverIndex = encrypted && peer ? (ctx.receiverIndexFor(peer.underlayIP) ?? 0) : 0;
  r.extensions = kernelDrop
    ? packedEncryptionExtension({
        mechanism: encrypted ? Mechanism.WIREGUARD : Mechanism.NONE,
        peerNode: peer?.name ?? '',
        peerPublicKey: peer?.publicKey ?? '',
        receiverIndex,
        leak,
        kernelDropReason: kernelDrop.name,
        kernelDropReasonCode: kernelDrop.code,
      })
    : encryptionFor(peer, encrypted, leak, receiverIndex);
  return r;
}

/** baseRecord as a flow.Flow message, for flows built as messages (policy verdicts). */
export function baseFlow(ctx: EnrichContext, ktimeNs: bigint, p: PacketInfo, kernelDrop?: KernelDrop): Flow {
  return recordToFlow(baseRecord(ctx, ktimeNs, p, kernelDrop));
}

/**
 * The packed Encryption of a forwarded or datapath-dropped flow, kept per peer object (a node
 * sync makes new ones, so a rotated key is never served stale) and per receiver index and flag
 * bits: packedEncryption's string key, built per flow, was 8% of the agent's profile.
 */
const encryptionByPeer = new WeakMap<NodeInfo, Map<number, FlowExtension>>();
const encryptionWithoutPeer = new Map<number, FlowExtension>();

function encryptionFor(
  peer: NodeInfo | undefined,
  encrypted: boolean,
  leak: boolean,
  receiverIndex: number,
): FlowExtension {
  let byKey = peer ? encryptionByPeer.get(peer) : encryptionWithoutPeer;
  if (byKey === undefined) encryptionByPeer.set(peer!, (byKey = new Map()));
  const key = receiverIndex * 4 + (encrypted ? 2 : 0) + (leak ? 1 : 0);
  let any = byKey.get(key);
  if (any === undefined) {
    if (byKey.size >= 1024) byKey.clear();
    any = packedEncryptionExtension({
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

function layer4(p: PacketInfo, r: FlowRecord): void {
  r.l4 = RecordL4.EMPTY;
  if (p.protocol === 6) {
    r.l4 = RecordL4.TCP;
    r.sourcePort = p.sport;
    r.destinationPort = p.dport;
    // the record keeps the kernel's flag byte: FIN 0x01 ... CWR 0x80, as TCPFlags' fields
    r.tcpFlags = p.tcpFlags & 0xff;
  } else if (p.protocol === 17) {
    r.l4 = RecordL4.UDP;
    r.sourcePort = p.sport;
    r.destinationPort = p.dport;
  } else if (p.protocol === 1 || p.protocol === 58) {
    r.l4 = p.protocol === 1 ? RecordL4.ICMPv4 : RecordL4.ICMPv6;
    r.icmpType = p.icmpType;
    r.icmpCode = p.icmpCode;
  }
}

/** The event's time into the record (the kernel's ns when the context converts them, else ms). */
function eventTime(ctx: EnrichContext, ktimeNs: bigint, r: FlowRecord): void {
  if (!ctx.wallClockNs) {
    const whole = Math.floor(ctx.wallClockMs(ktimeNs));
    const seconds = Math.floor(whole / 1000);
    r.timeSeconds = seconds;
    r.timeNanos = (whole - seconds * 1000) * 1e6;
    return;
  }
  const ns = ctx.wallClockNs(ktimeNs);
  r.timeSeconds = Number(ns / 1_000_000_000n);
  r.timeNanos = Number(ns % 1_000_000_000n);
}

function timestampOf(ctx: EnrichContext, ktimeNs: bigint): Timestamp {
  const r = newFlowRecord();
  eventTime(ctx, ktimeNs, r);
  return { $typeName: 'google.protobuf.Timestamp', seconds: BigInt(r.timeSeconds), nanos: r.timeNanos };
}

export function traceToRecord(ctx: EnrichContext, e: TraceEvent): FlowRecord {
  const r = baseRecord(ctx, e.header.ktimeNs, e.packet);
  r.verdict = Verdict.FORWARDED;
  r.eventType = MONITOR_TRACE;
  r.eventSubType = e.point;
  r.traceObservationPoint = observationPoint(e.point);
  r.traceReason = e.reason === 'new' ? 1 : 2;
  return r;
}

export function dropToRecord(ctx: EnrichContext, e: DropEvent): FlowRecord {
  if (!e.kernel) {
    const r = baseRecord(ctx, e.header.ktimeNs, e.packet);
    r.verdict = Verdict.DROPPED;
    r.dropReason = e.reason;
    r.eventType = MONITOR_DROP;
    r.eventSubType = e.reason & 0xff;
    r.dropReasonDesc = e.reason as DropReason;
    r.traceObservationPoint = observationPoint(e.point);
    return r;
  }
  // a kernel skb_drop_reason is no Cilium reason: sub_type 255 says so (see kernelDropSubType)
  const name = ctx.kernelDropReasonName(e.reason) ?? '';
  const r = baseRecord(ctx, e.header.ktimeNs, e.packet, { code: e.reason, name });
  r.verdict = Verdict.DROPPED;
  r.dropReason = kernelDropSubType;
  r.eventType = MONITOR_DROP;
  r.eventSubType = kernelDropSubType;
  r.dropReasonDesc = DropReason.DROP_REASON_UNKNOWN;
  r.summary = `${r.summary}; kernel drop: ${name || `reason ${e.reason}`}`;
  return r;
}

/** traceToRecord as a flow.Flow message. */
export function traceToFlow(ctx: EnrichContext, e: TraceEvent): Flow {
  return recordToFlow(traceToRecord(ctx, e));
}

/** dropToRecord as a flow.Flow message. */
export function dropToFlow(ctx: EnrichContext, e: DropEvent): Flow {
  return recordToFlow(dropToRecord(ctx, e));
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
      time: timestampOf(ctx, e.header.ktimeNs),
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
