/**
 * Byte layouts of the maps in bpf/lib/maps.h (host byte order, addresses in network order),
 * and the desired content of those maps computed from the cluster store.
 */
import { parseCidr, parseIPv4 } from '../net.js';

export const IpcacheFlag = { POD: 0x1, LOCAL: 0x2, NODE: 0x4 } as const;

export interface IpcacheEntry {
  /** "a.b.c.d/n" */
  prefix: string;
  identity: number;
  nodeId: number;
  tunnelIP: string | undefined;
  ifindex: number;
  flags: number;
}

export interface EndpointEntry {
  ifindex: number;
  mac: string;
  identity: number;
  ip: string;
}

function ipv4Bytes(text: string): Buffer {
  const value = parseIPv4(text);
  if (value === undefined) throw new Error(`not an IPv4 address: ${text}`);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** A node's id in the ipcache: its underlay IPv4 address as a number (unique, stable, nonzero). */
export function nodeIdOf(underlayIP: string): number {
  return parseIPv4(underlayIP) ?? 0;
}

export function ipcacheKey(prefix: string): Buffer {
  const [addr, len] = prefix.includes('/') ? prefix.split('/') : [prefix, '32'];
  const cidr = parseCidr(`${addr}/${len}`);
  if (!cidr) throw new Error(`not an IPv4 prefix: ${prefix}`);
  const key = Buffer.alloc(8);
  key.writeUInt32LE(cidr.prefixLength, 0);
  key.writeUInt32BE(cidr.network >>> 0, 4);
  return key;
}

export function ipcacheValue(e: IpcacheEntry): Buffer {
  const v = Buffer.alloc(24);
  v.writeUInt32LE(e.identity >>> 0, 0);
  v.writeUInt32LE(e.nodeId >>> 0, 4);
  if (e.tunnelIP) ipv4Bytes(e.tunnelIP).copy(v, 8);
  v.writeUInt32LE(e.ifindex >>> 0, 12);
  v.writeUInt32LE(e.flags >>> 0, 16);
  return v;
}

export function u32Key(value: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(value >>> 0);
  return key;
}

export function endpointValue(e: EndpointEntry): Buffer {
  const v = Buffer.alloc(20);
  const mac = e.mac.split(':').map((h) => parseInt(h, 16));
  if (mac.length !== 6 || mac.some((b) => !Number.isInteger(b) || b < 0 || b > 255))
    throw new Error(`not a MAC address: ${e.mac}`);
  Buffer.from(mac).copy(v, 0);
  v.writeUInt32LE(e.identity >>> 0, 8);
  ipv4Bytes(e.ip).copy(v, 12);
  return v;
}

/** struct ws_flow_key / ws_flow_value (bpf/lib/flowagg.h) decoded for the counters API. */
export interface FlowCounter {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  protocol: number;
  point: number;
  packets: number;
  bytes: number;
  firstNs: string;
  lastNs: string;
  tcpFlagsSeen: number;
}

export function decodeFlowCounter(key: Buffer, value: Buffer): FlowCounter | undefined {
  if (key.length < 40 || value.length < 56) return undefined;
  const family = key[38];
  if (family !== 4) return undefined;
  const ip = (off: number) => `${key[off]}.${key[off + 1]}.${key[off + 2]}.${key[off + 3]}`;
  return {
    saddr: ip(0),
    daddr: ip(16),
    sport: key.readUInt16LE(32),
    dport: key.readUInt16LE(34),
    protocol: key[36] ?? 0,
    point: key[37] ?? 0,
    packets: Number(value.readBigUInt64LE(0)),
    bytes: Number(value.readBigUInt64LE(8)),
    firstNs: value.readBigUInt64LE(16).toString(),
    lastNs: value.readBigUInt64LE(24).toString(),
    tcpFlagsSeen: value[48] ?? 0,
  };
}
