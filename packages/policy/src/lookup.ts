/**
 * The datapath's lookup (bpf/lib/policy.h, after Cilium's __policy_can_access) in userspace, for
 * tests and for `policy preview`: longest prefix at the peer's identity, then at identity 0; a
 * deny at the identity wins at once; else the higher precedence (deny), then the longer prefix.
 */
import type { CompiledEndpoint, Direction, PolicyEntry } from './compile.js';

/** Hubble's policy_match_type numbers (cilium api.PolicyMatchType). */
export const MatchType = {
  NONE: 0,
  L3_ONLY: 1,
  L3_L4: 2,
  L4_ONLY: 3,
  ALL: 4,
  L3_PROTO: 5,
  PROTO_ONLY: 6,
} as const;

/** Cilium's drop reasons for policy. */
export const DropReason = { POLICY_DENIED: 133, POLICY_DENY: 181, UNENCRYPTED_TRAFFIC: 195 } as const;

/** Bits of (protocol, port) an entry matches: 0 any, 8 protocol, 8 + port bits. */
export const l4PrefixLength = (e: Pick<PolicyEntry, 'protocol' | 'portBits'>): number =>
  e.protocol === 0 ? 0 : 8 + e.portBits;

export interface Verdict {
  allowed: boolean;
  /** the direction has rules: without, nothing is looked up and nothing is reported */
  active: boolean;
  enforced: boolean;
  matchType: number;
  /** set when denied: 181 by a deny entry, 133 by default deny */
  dropReason: number;
  entry: PolicyEntry | undefined;
}

function matches(e: PolicyEntry, protocol: number, port: number): boolean {
  if (e.protocol === 0) return true;
  if (e.protocol !== protocol) return false;
  if (e.portBits === 0) return true;
  const shift = 16 - e.portBits;
  return e.port >>> shift === port >>> shift;
}

export class PolicyLookup {
  private readonly byKey = new Map<string, PolicyEntry[]>();

  constructor(readonly compiled: CompiledEndpoint) {
    for (const e of compiled.entries) {
      const k = `${e.direction}/${e.identity}`;
      (this.byKey.get(k) ?? this.byKey.set(k, []).get(k)!).push(e);
    }
    for (const list of this.byKey.values()) list.sort((a, b) => l4PrefixLength(b) - l4PrefixLength(a));
  }

  private longest(
    direction: Direction,
    identity: number,
    protocol: number,
    port: number,
  ): PolicyEntry | undefined {
    return this.byKey.get(`${direction}/${identity}`)?.find((e) => matches(e, protocol, port));
  }

  verdict(direction: Direction, remoteIdentity: number, protocol: number, port: number): Verdict {
    const state = this.compiled[direction];
    if (!state.active)
      return {
        allowed: true,
        active: false,
        enforced: false,
        matchType: MatchType.NONE,
        dropReason: 0,
        entry: undefined,
      };
    const l3 = this.longest(direction, remoteIdentity, protocol, port);
    const l4 = l3?.deny ? undefined : this.longest(direction, 0, protocol, port);
    let winner: PolicyEntry | undefined = l3;
    let isL3 = l3 !== undefined;
    if (
      l4 &&
      (!l3 || (l4.deny && !l3.deny) || (l4.deny === l3.deny && l4PrefixLength(l4) > l4PrefixLength(l3)))
    ) {
      winner = l4;
      isL3 = false;
    }
    const base = { active: true, enforced: state.enforced, entry: winner };
    if (!winner)
      return { ...base, allowed: false, matchType: MatchType.NONE, dropReason: DropReason.POLICY_DENIED };
    const p = l4PrefixLength(winner);
    const matchType = isL3
      ? p > 8
        ? MatchType.L3_L4
        : p > 0
          ? MatchType.L3_PROTO
          : MatchType.L3_ONLY
      : p === 0
        ? MatchType.ALL
        : p <= 8
          ? MatchType.PROTO_ONLY
          : MatchType.L4_ONLY;
    return winner.deny
      ? { ...base, allowed: false, matchType, dropReason: DropReason.POLICY_DENY }
      : { ...base, allowed: true, matchType, dropReason: 0 };
  }
}
