/**
 * Policies + identities -> one endpoint's policy-map entries (Cilium's MapState, simplified):
 * key (remote identity, direction, protocol, port prefix), identity 0 = any peer (L4-only);
 * deny entries win over allow entries they cover; directions no rule enforces stay open.
 */
import { selects, type IdentityLabels } from './selector.js';
import {
  PROTOCOLS,
  type Entity,
  type PeerRule,
  type Policy,
  type PolicyRef,
  type PortProtocol,
} from './types.js';

/** Reserved identities (Cilium's numbers) the entities resolve to. */
export const RESERVED = { host: 1, world: 2, remoteNode: 6 } as const;

export type Direction = 'ingress' | 'egress';

export interface IdentityInfo {
  id: number;
  labels: IdentityLabels;
}

export interface PolicyEntry {
  /** remote identity; 0 = any */
  identity: number;
  direction: Direction;
  /** IANA number; 0 = any protocol (then port bits are 0 too) */
  protocol: number;
  port: number;
  /** significant bits of port, 0..16 */
  portBits: number;
  deny: boolean;
  /** policies that produced it, for attribution (empty for the implicit entries) */
  policies: PolicyRef[];
}

export interface DirectionState {
  /** some rule selecting the endpoint has this direction: the datapath looks packets up */
  active: boolean;
  /** default deny: only what an entry allows passes, and verdicts are reported */
  enforced: boolean;
  /** the policies whose selection turned default deny on */
  enforcedBy: PolicyRef[];
}

export interface CompiledEndpoint {
  ingress: DirectionState;
  egress: DirectionState;
  entries: PolicyEntry[];
  /** some selecting policy demands encryption (wirescope.io/require-encryption) */
  requireEncryption: PolicyRef[];
}

export interface StoredPolicyLike extends Policy {
  revision: number;
}

export const refOf = (p: StoredPolicyLike): PolicyRef => ({
  kind: p.kind,
  name: p.name,
  namespace: p.namespace,
  revision: p.revision,
});

/** [lo, hi] as the fewest (value, bits) prefixes over 16 bits. */
export function portPrefixes(lo: number, hi: number): { port: number; bits: number }[] {
  const out: { port: number; bits: number }[] = [];
  let start = lo;
  while (start <= hi) {
    let size = 0;
    while (size < 16) {
      const next = size + 1;
      const block = 1 << next;
      if (start % block !== 0 || start + block - 1 > hi) break;
      size = next;
    }
    out.push({ port: start, bits: 16 - size });
    start += 1 << size;
  }
  return out;
}

function l4Keys(ports: PortProtocol[] | undefined): { protocol: number; port: number; portBits: number }[] {
  if (!ports) return [{ protocol: 0, port: 0, portBits: 0 }];
  const out: { protocol: number; port: number; portBits: number }[] = [];
  for (const p of ports) {
    const protocols = p.protocol === 'ANY' ? Object.values(PROTOCOLS) : [PROTOCOLS[p.protocol]];
    const ranges = p.port === 0 ? [{ port: 0, bits: 0 }] : portPrefixes(p.port, p.endPort || p.port);
    for (const protocol of protocols)
      for (const r of ranges) out.push({ protocol, port: r.port, portBits: r.bits });
  }
  return out;
}

/** Selector -> the identities it selects, for one compile: rules repeat selectors a lot. */
export type SelectionCache = Map<string, number[]>;

/** Identities a peer rule names; [0] is "any peer" (entity all, or an L4-only rule). */
export function peerIdentities(
  rule: PeerRule,
  identities: readonly IdentityInfo[],
  cache: SelectionCache = new Map(),
): number[] {
  if (!rule.endpoints && !rule.entities) return rule.ports ? [0] : [];
  const out = new Set<number>();
  for (const selector of rule.endpoints ?? []) {
    const key = JSON.stringify(selector.requirements);
    let ids = cache.get(key);
    if (!ids) {
      ids = identities.filter((identity) => selects(selector, identity.labels)).map((i) => i.id);
      cache.set(key, ids);
    }
    for (const id of ids) out.add(id);
  }
  for (const entity of rule.entities ?? [])
    for (const id of entityIdentities(entity, identities)) out.add(id);
  return [...out];
}

function entityIdentities(entity: Entity, identities: readonly IdentityInfo[]): number[] {
  switch (entity) {
    case 'all':
      return [0];
    case 'host':
      return [RESERVED.host];
    case 'remote-node':
      return [RESERVED.remoteNode];
    case 'world':
      return [RESERVED.world];
    case 'cluster':
      return [RESERVED.host, RESERVED.remoteNode, ...identities.filter((i) => i.id >= 256).map((i) => i.id)];
  }
}

const entryKey = (e: Omit<PolicyEntry, 'deny' | 'policies'>) =>
  `${e.identity}/${e.direction}/${e.protocol}/${e.port}/${e.portBits}`;

/** True when (protocol, port/bits) of `outer` contains that of `inner`. */
function covers(outer: PolicyEntry, inner: PolicyEntry): boolean {
  if (outer.protocol === 0) return true;
  if (outer.protocol !== inner.protocol || outer.portBits > inner.portBits) return false;
  const shift = 16 - outer.portBits;
  return outer.portBits === 0 || outer.port >>> shift === inner.port >>> shift;
}

export interface CompileOptions {
  /** Cilium's allow-localhost: the local node may always reach its endpoints (health checks) */
  allowHost?: boolean;
  /** shared between the endpoints of one compile pass (same identities): selectors evaluated once */
  selections?: SelectionCache;
}

/**
 * The entries for one endpoint (by its identity labels), given every policy of the cluster and
 * every identity that can appear as a peer.
 */
export function compileEndpoint(
  endpointLabels: IdentityLabels,
  policies: readonly StoredPolicyLike[],
  identities: readonly IdentityInfo[],
  options: CompileOptions = {},
): CompiledEndpoint {
  const entries = new Map<string, PolicyEntry>();
  const state = {
    ingress: { active: false, enforced: false, enforcedBy: [] as PolicyRef[] },
    egress: { active: false, enforced: false, enforcedBy: [] as PolicyRef[] },
  };
  const requireEncryption: PolicyRef[] = [];
  const selections: SelectionCache = options.selections ?? new Map();
  const add = (rules: PeerRule[] | undefined, direction: Direction, deny: boolean, ref: PolicyRef) => {
    for (const rule of rules ?? []) {
      const peers = peerIdentities(rule, identities, selections);
      if (peers.length === 0) continue;
      const l4 = l4Keys(rule.ports);
      for (const identity of peers)
        for (const k of l4) {
          const entry = { identity, direction, ...k };
          const key = entryKey(entry);
          const prev = entries.get(key);
          if (!prev || (deny && !prev.deny)) entries.set(key, { ...entry, deny, policies: [ref] });
          else if (prev.deny === deny && !prev.policies.some((p) => samePolicy(p, ref)))
            prev.policies.push(ref);
        }
    }
  };
  for (const policy of policies) {
    const ref = refOf(policy);
    let selected = false;
    for (const rule of policy.rules) {
      if (!selects(rule.endpointSelector, endpointLabels)) continue;
      selected = true;
      for (const direction of ['ingress', 'egress'] as const) {
        const allow = direction === 'ingress' ? rule.ingress : rule.egress;
        const deny = direction === 'ingress' ? rule.ingressDeny : rule.egressDeny;
        if (!allow && !deny) continue;
        const s = state[direction];
        s.active = true;
        if (rule.enableDefaultDeny[direction]) {
          s.enforced = true;
          if (!s.enforcedBy.some((p) => samePolicy(p, ref))) s.enforcedBy.push(ref);
        }
        add(allow, direction, false, ref);
        add(deny, direction, true, ref);
      }
    }
    if (selected && policy.requireEncryption) requireEncryption.push(ref);
  }
  for (const direction of ['ingress', 'egress'] as const) {
    const s = state[direction];
    if (!s.active) continue;
    const implicit = (identity: number) => {
      const entry = { identity, direction, protocol: 0, port: 0, portBits: 0 };
      if (!entries.has(entryKey(entry)))
        entries.set(entryKey(entry), { ...entry, deny: false, policies: [] });
    };
    if (!s.enforced) implicit(0); // rules only deny: everything else passes
    if (direction === 'ingress' && options.allowHost !== false) implicit(RESERVED.host);
  }
  return { ...state, entries: denyWins([...entries.values()]), requireEncryption };
}

const samePolicy = (a: PolicyRef, b: PolicyRef) =>
  a.kind === b.kind && a.name === b.name && a.namespace === b.namespace;

/**
 * An LPM lookup returns the most specific entry of an identity: an allow for port 80 inside a
 * deny for all TCP of the same identity would hide the deny. Such allows become denies.
 */
function denyWins(entries: PolicyEntry[]): PolicyEntry[] {
  const denies = new Map<string, PolicyEntry[]>();
  for (const e of entries) {
    if (!e.deny) continue;
    const k = `${e.direction}/${e.identity}`;
    (denies.get(k) ?? denies.set(k, []).get(k)!).push(e);
  }
  if (denies.size === 0) return entries;
  return entries.map((e) => {
    if (e.deny) return e;
    const d = denies.get(`${e.direction}/${e.identity}`)?.find((d) => covers(d, e));
    return d ? { ...e, deny: true, policies: d.policies } : e;
  });
}
