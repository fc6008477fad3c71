// What the datapath's objects count in the kernel, read out of their maps: the per-object stats,
// every flow's counters, WireGuard transport per peer, and encryption coverage per node.
import type { BpfObject } from '@wirescope/libbpf';
import { decodeFlowCounter, u32Key, type FlowCounter } from './maps.js';

/** enum ws_stat in bpf/lib/maps.h, in slot order */
const STAT_NAMES = [
  'leakPackets',
  'redirects',
  'strictDrops',
  'flowsCreated',
  'traces',
  'arpReplies',
  'transportPackets',
  'policyDrops',
] as const;

export type DatapathStats = Record<(typeof STAT_NAMES)[number] | 'lostEvents', number>;

export interface PeerTraffic {
  peerIP: string;
  direction: 'egress' | 'ingress';
  packets: number;
  bytes: number;
}

export interface CoverageCounter {
  nodeId: number;
  state: 'encrypted' | 'plaintext' | 'dropped';
  packets: number;
  bytes: number;
}

/** Sum over objects and CPUs of the datapath counters, and ring-buffer reservation failures. */
export function datapathStats(objects: Iterable<BpfObject>): DatapathStats {
  const out = Object.fromEntries([...STAT_NAMES, 'lostEvents'].map((n) => [n, 0])) as DatapathStats;
  for (const object of objects) {
    const stats = object.map('ws_stats');
    STAT_NAMES.forEach((name, slot) => (out[name] += Number(stats.sumPerCpuU64(u32Key(slot)))));
    out.lostEvents += Number(object.map('lost_events').sumPerCpuU64(u32Key(0)));
  }
  return out;
}

/** The in-kernel per-flow counters of the objects that aggregate flows (every packet, not only traced ones). */
export function flowCounters(objects: ReadonlyMap<string, BpfObject>): FlowCounter[] {
  const out: FlowCounter[] = [];
  for (const name of ['lxc', 'crypto', 'underlay'] as const) {
    const object = objects.get(name);
    if (!object) continue;
    for (const [key, value] of object.map('ws_flows').entries()) {
      const counter = decodeFlowCounter(key, value);
      if (counter) out.push(counter);
    }
  }
  return out;
}

/** Transport bytes per peer underlay address and direction (the underlay object's ws_peer_traffic). */
export function peerTraffic(underlay: BpfObject | undefined): PeerTraffic[] {
  if (!underlay) return [];
  const out: PeerTraffic[] = [];
  for (const [key, value] of underlay.map('ws_peer_traffic').entries()) {
    out.push({
      peerIP: `${key[0]}.${key[1]}.${key[2]}.${key[3]}`,
      direction: key.readUInt32LE(4) === 2 ? 'egress' : 'ingress',
      ...sumCounterPairs(value),
    });
  }
  return out;
}

/**
 * Cross-node pod packets and bytes leaving this node's pods, per destination node id and state
 * (ws_coverage in bpf/lib/coverage.h, counted in the kernel for every packet).
 */
export function coverage(lxc: BpfObject | undefined): CoverageCounter[] {
  if (!lxc) return [];
  const states = ['encrypted', 'plaintext', 'dropped'] as const;
  const out: CoverageCounter[] = [];
  for (const [key, value] of lxc.map('ws_coverage').entries()) {
    const state = states[key.readUInt32LE(4)];
    if (!state) continue;
    out.push({ nodeId: key.readUInt32LE(0), state, ...sumCounterPairs(value) });
  }
  return out;
}

/**
 * { packets, bytes } of a counter value: two u64, one pair per CPU in the per-CPU maps that count
 * every packet (ws_peer_traffic, ws_coverage: no atomic add bouncing between CPUs), summed.
 */
function sumCounterPairs(value: Buffer): { packets: number; bytes: number } {
  let packets = 0n;
  let bytes = 0n;
  for (let off = 0; off + 16 <= value.length; off += 16) {
    packets += value.readBigUInt64LE(off);
    bytes += value.readBigUInt64LE(off + 8);
  }
  return { packets: Number(packets), bytes: Number(bytes) };
}
