// The encryption views' model: the node × node coverage matrix, the per-pair peer drift
// checklist, the plaintext leak table and the handshake timeline, from the relay's encryption
// status (devices, peers, handshakes) and the flows the browser holds.
import type { EncryptionResponse, Handshake, NodeEncryption, PeerEncryption } from '../../server/index.js';
import {
  destinationName,
  destinationPort,
  flowEncryption,
  nodePair,
  protocolOf,
  sourceName,
  type FlowView,
} from '../../shared/flow-fields.js';

/** WireGuard's REJECT_AFTER_TIME: a session older than this carries no traffic. */
export const rejectAfterMs = 180_000;

export type CoverageState = 'Encrypted' | 'Partial' | 'Plaintext' | 'No traffic' | 'No peer';

export interface CoverageCell {
  from: string;
  to: string;
  encrypted: number;
  plaintext: number;
  /** Share of the pair's cross-node pod flows (egress side) that went into WireGuard, 0..1. */
  share: number | undefined;
  state: CoverageState;
  peer?: PeerEncryption | undefined;
  handshakeAgeMs?: number | undefined;
  roundTripMs?: number | undefined;
}

export interface CoverageMatrix {
  nodes: string[];
  cells: Map<string, CoverageCell>;
}

export const pairKey = (from: string, to: string): string => `${from}→${to}`;

export function peerOf(
  nodes: readonly NodeEncryption[],
  from: string,
  to: string,
): PeerEncryption | undefined {
  return nodes.find((n) => n.nodeName === from)?.peers.find((p) => p.peerNode === to);
}

/** Encrypted and plaintext cross-node flows per ordered node pair. */
export function countPairs(flows: Iterable<FlowView>): Map<string, { encrypted: number; plaintext: number }> {
  const counts = new Map<string, { encrypted: number; plaintext: number }>();
  for (const f of flows) {
    const state = flowEncryption(f);
    if (state !== 'encrypted' && state !== 'plaintext') continue;
    const pair = nodePair(f);
    if (!pair) continue;
    const key = pairKey(pair.from, pair.to);
    const c = counts.get(key) ?? { encrypted: 0, plaintext: 0 };
    if (state === 'encrypted') c.encrypted++;
    else c.plaintext++;
    counts.set(key, c);
  }
  return counts;
}

export function coverageMatrix(
  status: EncryptionResponse,
  counts: Map<string, { encrypted: number; plaintext: number }>,
  now = Date.now(),
): CoverageMatrix {
  const names = new Set(status.nodes.map((n) => n.nodeName));
  for (const key of counts.keys()) for (const n of key.split('→')) names.add(n);
  const nodes = [...names].sort();
  const cells = new Map<string, CoverageCell>();
  const lastRoundTrip = new Map<string, number>();
  for (const h of status.handshakes)
    if (h.roundTripMs !== undefined) lastRoundTrip.set(pairKey(h.nodeName, h.peerNode), h.roundTripMs);
  for (const from of nodes)
    for (const to of nodes) {
      if (from === to) continue;
      const c = counts.get(pairKey(from, to)) ?? { encrypted: 0, plaintext: 0 };
      const total = c.encrypted + c.plaintext;
      const peer = peerOf(status.nodes, from, to);
      let state: CoverageState;
      if (total === 0) state = peer ? 'No traffic' : 'No peer';
      else if (c.plaintext === 0) state = 'Encrypted';
      else if (c.encrypted === 0) state = 'Plaintext';
      else state = 'Partial';
      // a pair without a peer that still sends plaintext is Plaintext: the traffic is the fact
      const handshake = peer?.latestHandshake ? Date.parse(peer.latestHandshake) : undefined;
      cells.set(pairKey(from, to), {
        from,
        to,
        encrypted: c.encrypted,
        plaintext: c.plaintext,
        share: total ? c.encrypted / total : undefined,
        state,
        peer,
        handshakeAgeMs: handshake !== undefined ? Math.max(0, now - handshake) : undefined,
        roundTripMs: lastRoundTrip.get(pairKey(from, to)) ?? lastRoundTrip.get(pairKey(to, from)),
      });
    }
  return { nodes, cells };
}

export interface DriftCheck {
  check: string;
  ok: boolean;
  detail: string;
}

/** Does the pod CIDR `cidr` fall inside one of `allowed` (IPv4 prefixes)? */
export function covers(allowed: readonly string[], cidr: string): boolean {
  const parse = (c: string): [number, number] | undefined => {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(c.trim());
    if (!m) return undefined;
    const ip = ((+m[1]! << 24) | (+m[2]! << 16) | (+m[3]! << 8) | +m[4]!) >>> 0;
    return [ip, +m[5]!];
  };
  const want = parse(cidr);
  if (!want) return allowed.includes(cidr);
  return allowed.some((a) => {
    const have = parse(a);
    if (!have || have[1] > want[1]) return false;
    const mask = have[1] === 0 ? 0 : (~0 << (32 - have[1])) >>> 0;
    return (want[0] & mask) >>> 0 === (have[0] & mask) >>> 0;
  });
}

/**
 * Expected against actual for the pair's tunnel from `from` to `to`: the peer exists, carries the
 * key `to` publishes, points at an endpoint, allows `to`'s pod CIDR (what `to`'s other peers
 * route to it), had a handshake within 180 s, and moves bytes both ways since the last look.
 */
export function driftChecklist(
  status: EncryptionResponse,
  from: string,
  to: string,
  previous?: EncryptionResponse,
  now = Date.now(),
): DriftCheck[] {
  const peer = peerOf(status.nodes, from, to);
  const remote = status.nodes.find((n) => n.nodeName === to);
  if (!peer) return [{ check: 'peer present', ok: false, detail: `${from} has no WireGuard peer for ${to}` }];
  const podCidrs = new Set(
    status.nodes.flatMap((n) => n.peers.filter((p) => p.peerNode === to).flatMap((p) => p.allowedIps)),
  );
  const age = peer.latestHandshake ? now - Date.parse(peer.latestHandshake) : undefined;
  const before = previous ? peerOf(previous.nodes, from, to) : undefined;
  const moving =
    before === undefined ? undefined : peer.rxBytes > before.rxBytes && peer.txBytes > before.txBytes;
  return [
    { check: 'peer present', ok: true, detail: `${peer.peerPublicKey.slice(0, 12)}…` },
    {
      check: 'key matches',
      ok: !!remote && remote.publicKey === peer.peerPublicKey,
      detail: remote ? `${to} publishes ${remote.publicKey.slice(0, 12)}…` : `${to} reports no device`,
    },
    { check: 'endpoint', ok: !!peer.endpoint, detail: peer.endpoint || 'no endpoint' },
    {
      check: 'allowed-ips cover the pod CIDR',
      ok: podCidrs.size > 0 && [...podCidrs].every((c) => covers(peer.allowedIps, c)),
      detail: peer.allowedIps.join(', ') || 'none',
    },
    {
      check: 'handshake < 180 s',
      ok: age !== undefined && age < rejectAfterMs,
      detail: age === undefined ? 'never' : `${Math.round(age / 1000)} s ago`,
    },
    {
      check: 'rx/tx moving',
      ok: moving ?? (peer.rxBytes > 0 && peer.txBytes > 0),
      detail: `rx ${peer.rxBytes} B, tx ${peer.txBytes} B${before ? ` (was ${before.rxBytes}/${before.txBytes})` : ''}`,
    },
  ];
}

export interface LeakRow {
  key: string;
  source: string;
  destination: string;
  port: string;
  nodes: string;
  flows: number;
  firstSeen: string;
  lastSeen: string;
  point: string;
  reason: string;
}

/**
 * Unencrypted cross-node pod flows ranked by how often they were seen (Hubble flows carry no byte
 * counts; the WireGuard byte counters are per peer, in the matrix); same-node traffic is listed
 * apart, never as a leak.
 */
export function leakTable(flows: Iterable<FlowView>): { leaks: LeakRow[]; sameNode: LeakRow[] } {
  const leaks = new Map<string, LeakRow>();
  const same = new Map<string, LeakRow>();
  for (const f of flows) {
    const state = flowEncryption(f);
    if (state !== 'plaintext' && state !== 'same-node') continue;
    if (f.is_reply) continue;
    const pair = nodePair(f);
    const port = `${destinationPort(f) ?? ''}/${protocolOf(f)}`;
    const key = `${sourceName(f)}→${destinationName(f)}:${port}`;
    const into = state === 'plaintext' ? leaks : same;
    const row = into.get(key) ?? {
      key,
      source: sourceName(f),
      destination: destinationName(f),
      port,
      nodes: pair ? `${pair.from} → ${pair.to}` : (f.node_name ?? ''),
      flows: 0,
      firstSeen: f.time ?? '',
      lastSeen: f.time ?? '',
      point: f.trace_observation_point ?? '',
      reason: '',
    };
    row.flows++;
    if ((f.time ?? '') < row.firstSeen) row.firstSeen = f.time ?? '';
    if ((f.time ?? '') > row.lastSeen) row.lastSeen = f.time ?? '';
    row.reason = f.extensions?.leak
      ? 'seen in clear on the underlay (bypassed the tunnel)'
      : state === 'plaintext'
        ? 'left the node outside WireGuard (no peer / allowed-ips miss, strict mode off)'
        : 'same node: never needs WireGuard';
    into.set(key, row);
  }
  const rank = (m: Map<string, LeakRow>) => [...m.values()].sort((a, b) => b.flows - a.flows);
  return { leaks: rank(leaks), sameNode: rank(same) };
}

export interface TimelineLane {
  pair: string;
  events: Handshake[];
  /** Gaps between handshakes longer than 180 s while the pair carried flows. */
  gaps: { from: string; to: string }[];
  /** Initiations that no response followed within 5 s (REKEY_TIMEOUT). */
  unanswered: number;
}

export function handshakeTimeline(
  handshakes: readonly Handshake[],
  busyPairs: ReadonlySet<string>,
): TimelineLane[] {
  const lanes = new Map<string, Handshake[]>();
  for (const h of handshakes) {
    const [a, b] = [h.nodeName, h.peerNode].sort() as [string, string];
    const key = `${a} ↔ ${b}`;
    const list = lanes.get(key) ?? [];
    list.push(h);
    lanes.set(key, list);
  }
  return [...lanes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pair, events]) => {
      events.sort((x, y) => x.time.localeCompare(y.time));
      const gaps: { from: string; to: string }[] = [];
      const [a, b] = pair.split(' ↔ ') as [string, string];
      const busy = busyPairs.has(pairKey(a, b)) || busyPairs.has(pairKey(b, a));
      for (let i = 1; i < events.length; i++) {
        const prev = events[i - 1]!.time;
        const next = events[i]!.time;
        if (busy && Date.parse(next) - Date.parse(prev) > rejectAfterMs) gaps.push({ from: prev, to: next });
      }
      let unanswered = 0;
      for (const e of events) {
        if (e.messageType !== 'initiation') continue;
        const t = Date.parse(e.time);
        const answered = events.some(
          (r) => r.messageType === 'response' && Date.parse(r.time) >= t && Date.parse(r.time) - t <= 5000,
        );
        if (!answered) unanswered++;
      }
      return { pair, events, gaps, unanswered };
    });
}
