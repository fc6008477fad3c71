// Record builders for tests and benchmarks (@wirescope/events/testing): ring-buffer records laid
// out through the layout table, at the offsets the C structs have (the BTF test checks them).
import { EVENT_MAGIC, EVENT_VERSION, LAYOUT } from './layout.js';
import type { RecordBatchLike } from './decode.js';

export interface PacketInit {
  saddr: readonly number[];
  daddr: readonly number[];
  sport: number;
  dport: number;
  ifindex: number;
  srcIdentity: number;
  dstIdentity: number;
  peerNodeId: number;
  family: number;
  protocol: number;
  tcpFlags: number;
  direction: number;
  flags: number;
}

/** Writes a versioned event header for a record of `size` bytes at `at`. */
export function writeEventHeader(
  buf: Buffer,
  at: number,
  header: { type: number; subtype: number; size: number; ktimeNs?: bigint },
): void {
  const H = LAYOUT.ws_event_header.fields;
  buf.writeUInt16LE(EVENT_MAGIC, at + H.magic.offset);
  buf.writeUInt8(EVENT_VERSION, at + H.version.offset);
  buf.writeUInt8(header.type, at + H.type.offset);
  buf.writeUInt16LE(header.size, at + H.len.offset);
  buf.writeUInt16LE(header.subtype, at + H.subtype.offset);
  buf.writeBigUInt64LE(header.ktimeNs ?? 0n, at + H.ktime_ns.offset);
}

/** Writes the given fields of a ws_packet_info at `at` (the others stay as they are). */
export function writePacketInfo(buf: Buffer, at: number, p: Partial<PacketInit>): void {
  const P = LAYOUT.ws_packet_info.fields;
  if (p.saddr) Buffer.from(p.saddr).copy(buf, at + P.saddr.offset);
  if (p.daddr) Buffer.from(p.daddr).copy(buf, at + P.daddr.offset);
  if (p.sport !== undefined) buf.writeUInt16LE(p.sport, at + P.sport.offset);
  if (p.dport !== undefined) buf.writeUInt16LE(p.dport, at + P.dport.offset);
  if (p.ifindex !== undefined) buf.writeUInt32LE(p.ifindex, at + P.ifindex.offset);
  if (p.srcIdentity !== undefined) buf.writeUInt32LE(p.srcIdentity, at + P.src_identity.offset);
  if (p.dstIdentity !== undefined) buf.writeUInt32LE(p.dstIdentity, at + P.dst_identity.offset);
  if (p.peerNodeId !== undefined) buf.writeUInt32LE(p.peerNodeId, at + P.peer_node_id.offset);
  if (p.family !== undefined) buf.writeUInt8(p.family, at + P.family.offset);
  if (p.protocol !== undefined) buf.writeUInt8(p.protocol, at + P.protocol.offset);
  if (p.tcpFlags !== undefined) buf.writeUInt8(p.tcpFlags, at + P.tcp_flags.offset);
  if (p.direction !== undefined) buf.writeUInt8(p.direction, at + P.direction.offset);
  if (p.flags !== undefined) buf.writeUInt16LE(p.flags, at + P.flags.offset);
}

/** Back-to-back records as one ring-buffer batch. */
export function recordBatch(...records: Buffer[]): RecordBatchLike & { buffer: Buffer } {
  const offsets = [0];
  for (const r of records) offsets.push((offsets.at(-1) ?? 0) + r.length);
  return { buffer: Buffer.concat(records), offsets: Uint32Array.from(offsets), count: records.length };
}
