import { formatIPv4, formatIPv6 } from './ip.js';
import { ENUMS, EVENT_MAGIC, EVENT_VERSION, EventType, LAYOUT } from './layout.js';

export interface EventHeader {
  magic: number;
  version: number;
  type: number;
  len: number;
  subtype: number;
  cpu: number;
  ktimeNs: bigint;
}

export type Direction = 'unknown' | 'ingress' | 'egress';

/** The fields ws_probe_event and ws_packet_info share (same names, each at its own offset). */
export interface PacketFields {
  family: 4 | 6;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  ifindex: number;
  pktLen: number;
  protocol: number;
  /** raw TCP flag bits (enum ws_tcp_flag) */
  tcpFlags: number;
  direction: Direction;
  icmpType: number;
  icmpCode: number;
}

export interface ProbeEvent extends PacketFields {
  kind: 'probe';
  header: EventHeader;
}

export interface BenchEvent {
  kind: 'bench';
  header: EventHeader;
  seq: bigint;
}

/** The packet part of trace and drop records (struct ws_packet_info). */
export interface PacketInfo extends PacketFields {
  srcIdentity: number;
  dstIdentity: number;
  /** ipcache node id of the node on the other side; 0 when none */
  peerNodeId: number;
  /** enum ws_trace_flag bits */
  flags: number;
}

export type TraceReason = 'new' | 'flags' | 'periodic' | 'unknown';

export interface TraceEvent {
  kind: 'trace';
  header: EventHeader;
  /** enum ws_trace_point (Cilium's trace observation point numbering) */
  point: number;
  packet: PacketInfo;
  flowPackets: bigint;
  flowBytes: bigint;
  firstSeenNs: bigint;
  reason: TraceReason;
  tcpFlagsSeen: number;
}

export interface DropEvent {
  kind: 'drop';
  header: EventHeader;
  /** Cilium drop reason, or the kernel's skb_drop_reason when `kernel` */
  reason: number;
  kernel: boolean;
  packet: PacketInfo;
  location: bigint;
  point: number;
}

export interface HandshakeEvent {
  kind: 'handshake';
  header: EventHeader;
  /** WireGuard message type: 1 initiation, 2 response, 3 cookie reply */
  messageType: number;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  ifindex: number;
  senderIndex: number;
  receiverIndex: number;
  direction: Direction;
}

/** A policy verdict (Cilium's policy_verdict_notify): the first packet of a connection, or a denied one. */
export interface PolicyVerdictEvent {
  kind: 'policy-verdict';
  header: EventHeader;
  /** enum ws_trace_point where the verdict was taken */
  point: number;
  packet: PacketInfo;
  remoteIdentity: number;
  /** the agent's attribution of the winning entry; 0 none */
  cookie: number;
  /** 0 allowed; else 133 (default deny) or 181 (deny rule), also when audited */
  dropReason: number;
  /** Hubble's policy_match_type */
  matchType: number;
  audited: boolean;
}

export type DecodedEvent =
  ProbeEvent | BenchEvent | TraceEvent | DropEvent | HandshakeEvent | PolicyVerdictEvent;

/** Why a record was not decoded; each reason is counted in DecoderStats. */
export type SkipReason = 'truncated' | 'badMagic' | 'unknownVersion' | 'unknownType';

export interface DecoderStats {
  decoded: number;
  truncated: number;
  badMagic: number;
  unknownVersion: number;
  unknownType: number;
}

/** The batch shape @wirescope/libbpf's ring-buffer reader delivers. */
export interface RecordBatchLike {
  readonly buffer: Uint8Array;
  readonly offsets: Uint32Array;
  readonly count: number;
}

const H = LAYOUT.ws_event_header.fields;
const P = LAYOUT.ws_probe_event.fields;
const B = LAYOUT.ws_bench_event.fields;
const PI = LAYOUT.ws_packet_info.fields;
const T = LAYOUT.ws_trace_event.fields;
const D = LAYOUT.ws_drop_event.fields;
const HS = LAYOUT.ws_handshake_event.fields;
const PV = LAYOUT.ws_policy_verdict_event.fields;

const TRACE_REASONS: Record<number, TraceReason> = {
  [ENUMS.ws_trace_reason.WS_REASON_NEW]: 'new',
  [ENUMS.ws_trace_reason.WS_REASON_FLAGS]: 'flags',
  [ENUMS.ws_trace_reason.WS_REASON_PERIODIC]: 'periodic',
};
const HEADER_SIZE = LAYOUT.ws_event_header.size;

const DIRECTIONS: Record<number, Direction> = {
  [ENUMS.ws_direction.WS_DIR_UNKNOWN]: 'unknown',
  [ENUMS.ws_direction.WS_DIR_INGRESS]: 'ingress',
  [ENUMS.ws_direction.WS_DIR_EGRESS]: 'egress',
};

const TCP_FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [ENUMS.ws_tcp_flag.WS_TCP_FIN, 'FIN'],
  [ENUMS.ws_tcp_flag.WS_TCP_SYN, 'SYN'],
  [ENUMS.ws_tcp_flag.WS_TCP_RST, 'RST'],
  [ENUMS.ws_tcp_flag.WS_TCP_PSH, 'PSH'],
  [ENUMS.ws_tcp_flag.WS_TCP_ACK, 'ACK'],
  [ENUMS.ws_tcp_flag.WS_TCP_URG, 'URG'],
  [ENUMS.ws_tcp_flag.WS_TCP_ECE, 'ECE'],
  [ENUMS.ws_tcp_flag.WS_TCP_CWR, 'CWR'],
];

/** Names of the set TCP flag bits, in Hubble's order (FIN SYN RST PSH ACK URG ECE CWR). */
export function tcpFlagNames(flags: number): string[] {
  return TCP_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

const PROTOCOL_NAMES: Record<number, string> = {
  1: 'ICMPv4',
  6: 'TCP',
  17: 'UDP',
  58: 'ICMPv6',
  132: 'SCTP',
};

export function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? `proto-${protocol}`;
}

/**
 * Decodes ring-buffer records. Never throws on record content: records it cannot decode
 * (truncated, foreign, newer version or unknown type) are counted in `stats` and skipped.
 */
export class EventDecoder {
  readonly stats: DecoderStats = { decoded: 0, truncated: 0, badMagic: 0, unknownVersion: 0, unknownType: 0 };

  /** Decodes record bytes [start, end) of buf; undefined (and counted) when not decodable. */
  decode(
    buf: Uint8Array,
    start = 0,
    end = buf.length,
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
  ): DecodedEvent | undefined {
    const available = end - start;
    if (available < HEADER_SIZE) return this.#skip('truncated');
    if (view.getUint16(start + H.magic.offset, true) !== EVENT_MAGIC) return this.#skip('badMagic');
    const version = view.getUint8(start + H.version.offset);
    if (version !== EVENT_VERSION) return this.#skip('unknownVersion');
    const len = view.getUint16(start + H.len.offset, true);
    if (len > available) return this.#skip('truncated');
    const header: EventHeader = {
      magic: EVENT_MAGIC,
      version,
      type: view.getUint8(start + H.type.offset),
      len,
      subtype: view.getUint16(start + H.subtype.offset, true),
      cpu: view.getUint32(start + H.cpu.offset, true),
      ktimeNs: view.getBigUint64(start + H.ktime_ns.offset, true),
    };
    switch (header.type) {
      case EventType.PROBE:
        if (len < LAYOUT.ws_probe_event.size) return this.#skip('truncated');
        this.stats.decoded++;
        return decodeProbe(buf, view, start, header);
      case EventType.BENCH:
        if (len < LAYOUT.ws_bench_event.size) return this.#skip('truncated');
        this.stats.decoded++;
        return { kind: 'bench', header, seq: view.getBigUint64(start + B.seq.offset, true) };
      case EventType.TRACE:
        if (len < LAYOUT.ws_trace_event.size) return this.#skip('truncated');
        this.stats.decoded++;
        return {
          kind: 'trace',
          header,
          point: header.subtype,
          packet: decodePacketInfo(buf, view, start + T.pkt.offset),
          flowPackets: view.getBigUint64(start + T.flow_packets.offset, true),
          flowBytes: view.getBigUint64(start + T.flow_bytes.offset, true),
          firstSeenNs: view.getBigUint64(start + T.first_seen_ns.offset, true),
          reason: TRACE_REASONS[view.getUint8(start + T.reason.offset)] ?? 'unknown',
          tcpFlagsSeen: view.getUint8(start + T.tcp_flags_seen.offset),
        };
      case EventType.DROP: {
        if (len < LAYOUT.ws_drop_event.size) return this.#skip('truncated');
        this.stats.decoded++;
        const packet = decodePacketInfo(buf, view, start + D.pkt.offset);
        return {
          kind: 'drop',
          header,
          reason: header.subtype,
          kernel: (packet.flags & ENUMS.ws_trace_flag.WS_F_KERNEL) !== 0,
          packet,
          location: view.getBigUint64(start + D.location.offset, true),
          point: view.getUint8(start + D.trace_point.offset),
        };
      }
      case EventType.POLICY_VERDICT:
        if (len < LAYOUT.ws_policy_verdict_event.size) return this.#skip('truncated');
        this.stats.decoded++;
        return {
          kind: 'policy-verdict',
          header,
          point: header.subtype,
          packet: decodePacketInfo(buf, view, start + PV.pkt.offset),
          remoteIdentity: view.getUint32(start + PV.remote_identity.offset, true),
          cookie: view.getUint32(start + PV.cookie.offset, true),
          dropReason: view.getUint16(start + PV.drop_reason.offset, true),
          matchType: view.getUint8(start + PV.match_type.offset),
          audited: view.getUint8(start + PV.audited.offset) !== 0,
        };
      case EventType.HANDSHAKE:
        if (len < LAYOUT.ws_handshake_event.size) return this.#skip('truncated');
        this.stats.decoded++;
        return {
          kind: 'handshake',
          header,
          messageType: header.subtype,
          saddr: formatIPv4(buf, start + HS.saddr.offset),
          daddr: formatIPv4(buf, start + HS.daddr.offset),
          sport: view.getUint16(start + HS.sport.offset, true),
          dport: view.getUint16(start + HS.dport.offset, true),
          ifindex: view.getUint32(start + HS.ifindex.offset, true),
          senderIndex: view.getUint32(start + HS.sender_index.offset, true),
          receiverIndex: view.getUint32(start + HS.receiver_index.offset, true),
          direction: DIRECTIONS[view.getUint8(start + HS.direction.offset)] ?? 'unknown',
        };
      default:
        return this.#skip('unknownType');
    }
  }

  /** Decodes every record of a ring-buffer batch, skipping (and counting) the rest. */
  decodeBatch(batch: RecordBatchLike): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    const view = new DataView(batch.buffer.buffer, batch.buffer.byteOffset, batch.buffer.byteLength);
    for (let i = 0; i < batch.count; i++) {
      const start = batch.offsets[i];
      const end = batch.offsets[i + 1];
      if (start === undefined || end === undefined || end > batch.buffer.length || start > end) {
        this.#skip('truncated');
        continue;
      }
      const event = this.decode(batch.buffer, start, end, view);
      if (event) out.push(event);
    }
    return out;
  }

  /**
   * Decodes back-to-back records (e.g. a capture file) using each header's `len` to step;
   * stops at the first record whose length cannot be trusted.
   */
  decodeStream(buf: Uint8Array): DecodedEvent[] {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: DecodedEvent[] = [];
    let off = 0;
    while (off < buf.length) {
      if (buf.length - off < HEADER_SIZE) {
        this.#skip('truncated');
        break;
      }
      const len = view.getUint16(off + H.len.offset, true);
      if (view.getUint16(off + H.magic.offset, true) !== EVENT_MAGIC || len < HEADER_SIZE) {
        this.#skip('badMagic');
        break;
      }
      const event = this.decode(buf, off, Math.min(buf.length, off + len));
      if (event) out.push(event);
      off += len;
    }
    return out;
  }

  #skip(reason: SkipReason): undefined {
    this.stats[reason]++;
    return undefined;
  }
}

type PacketFieldTable = Record<
  | 'family'
  | 'saddr'
  | 'daddr'
  | 'sport'
  | 'dport'
  | 'ifindex'
  | 'pkt_len'
  | 'protocol'
  | 'tcp_flags'
  | 'direction'
  | 'icmp_type'
  | 'icmp_code',
  { offset: number }
>;

function decodePacketFields(f: PacketFieldTable, buf: Uint8Array, view: DataView, at: number): PacketFields {
  const family = view.getUint8(at + f.family.offset) === 6 ? 6 : 4;
  const fmt = family === 4 ? formatIPv4 : formatIPv6;
  return {
    family,
    saddr: fmt(buf, at + f.saddr.offset),
    daddr: fmt(buf, at + f.daddr.offset),
    sport: view.getUint16(at + f.sport.offset, true),
    dport: view.getUint16(at + f.dport.offset, true),
    ifindex: view.getUint32(at + f.ifindex.offset, true),
    pktLen: view.getUint32(at + f.pkt_len.offset, true),
    protocol: view.getUint8(at + f.protocol.offset),
    tcpFlags: view.getUint8(at + f.tcp_flags.offset),
    direction: DIRECTIONS[view.getUint8(at + f.direction.offset)] ?? 'unknown',
    icmpType: view.getUint8(at + f.icmp_type.offset),
    icmpCode: view.getUint8(at + f.icmp_code.offset),
  };
}

function decodeProbe(buf: Uint8Array, view: DataView, start: number, header: EventHeader): ProbeEvent {
  return { kind: 'probe', header, ...decodePacketFields(P, buf, view, start) };
}

// Offsets of ws_packet_info as plain constants: the record decoder runs once per flow, and
// reading them through the layout table (or spreading decodePacketFields) led its profile.
const PI_FAMILY = PI.family.offset;
const PI_SADDR = PI.saddr.offset;
const PI_DADDR = PI.daddr.offset;
const PI_SPORT = PI.sport.offset;
const PI_DPORT = PI.dport.offset;
const PI_IFINDEX = PI.ifindex.offset;
const PI_PKT_LEN = PI.pkt_len.offset;
const PI_PROTOCOL = PI.protocol.offset;
const PI_TCP_FLAGS = PI.tcp_flags.offset;
const PI_DIRECTION = PI.direction.offset;
const PI_ICMP_TYPE = PI.icmp_type.offset;
const PI_ICMP_CODE = PI.icmp_code.offset;
const PI_SRC_IDENTITY = PI.src_identity.offset;
const PI_DST_IDENTITY = PI.dst_identity.offset;
const PI_PEER_NODE_ID = PI.peer_node_id.offset;
const PI_FLAGS = PI.flags.offset;

function decodePacketInfo(buf: Uint8Array, view: DataView, at: number): PacketInfo {
  const family = view.getUint8(at + PI_FAMILY) === 6 ? 6 : 4;
  return {
    family,
    saddr: family === 4 ? formatIPv4(buf, at + PI_SADDR) : formatIPv6(buf, at + PI_SADDR),
    daddr: family === 4 ? formatIPv4(buf, at + PI_DADDR) : formatIPv6(buf, at + PI_DADDR),
    sport: view.getUint16(at + PI_SPORT, true),
    dport: view.getUint16(at + PI_DPORT, true),
    ifindex: view.getUint32(at + PI_IFINDEX, true),
    pktLen: view.getUint32(at + PI_PKT_LEN, true),
    protocol: view.getUint8(at + PI_PROTOCOL),
    tcpFlags: view.getUint8(at + PI_TCP_FLAGS),
    direction: DIRECTIONS[view.getUint8(at + PI_DIRECTION)] ?? 'unknown',
    icmpType: view.getUint8(at + PI_ICMP_TYPE),
    icmpCode: view.getUint8(at + PI_ICMP_CODE),
    srcIdentity: view.getUint32(at + PI_SRC_IDENTITY, true),
    dstIdentity: view.getUint32(at + PI_DST_IDENTITY, true),
    peerNodeId: view.getUint32(at + PI_PEER_NODE_ID, true),
    flags: view.getUint16(at + PI_FLAGS, true),
  };
}

/** One line per probe event, for demos and logs. */
export function formatProbeEvent(e: ProbeEvent): string {
  const proto = protocolName(e.protocol);
  const src = e.sport || e.dport ? hostPort(e.saddr, e.family, e.sport) : e.saddr;
  const dst = e.sport || e.dport ? hostPort(e.daddr, e.family, e.dport) : e.daddr;
  let detail = '';
  if (e.protocol === 6) detail = ` [${tcpFlagNames(e.tcpFlags).join(',')}]`;
  else if (e.protocol === 1 || e.protocol === 58) detail = ` type=${e.icmpType} code=${e.icmpCode}`;
  return `${e.direction.padEnd(7)} if=${e.ifindex} ${proto} ${src} -> ${dst}${detail} len=${e.pktLen}`;
}

function hostPort(addr: string, family: 4 | 6, port: number): string {
  return family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}
