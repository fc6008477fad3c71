/**
 * "What would this policy do" (Calico's staged policies, evaluated in userspace): every
 * connection seen in the flows is evaluated against the policies in force and against the
 * policies as they would be after an apply, with the datapath's own algorithm
 * (@wirescope/policy's PolicyLookup, once at the source's egress and once at the destination's
 * ingress). Only connections that were seen can be previewed.
 */
import type { Flow } from '@wirescope/flow';
import {
  PolicyLookup,
  compileEndpoint,
  policyId,
  type IdentityInfo,
  type PolicyRef,
  type StoredPolicyLike,
  type Verdict,
} from '@wirescope/policy';
import { columns } from './table.js';

export type Change = 'would-block' | 'would-open';

export interface PreviewRow {
  source: string;
  destination: string;
  protocol: string;
  port: number;
  change: Change;
  /** distinct connections (source port) seen */
  connections: number;
  /** the policies that decide after the apply (for would-block: the deny or the default deny's trigger) */
  by: string[];
}

export interface PreviewResult {
  connections: number;
  unchanged: number;
  rows: PreviewRow[];
}

interface Side {
  name: string;
  identity: number;
  labels: Record<string, string>;
  pod: boolean;
}

const PROTOCOLS: Record<string, number> = { TCP: 6, UDP: 17, SCTP: 132 };

function sideOf(ep: Flow['source'], ip: string): Side {
  const labels: Record<string, string> = {};
  for (const l of ep?.labels ?? []) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const pod = Boolean(ep?.podName);
  return { name: pod ? `${ep!.namespace}/${ep!.podName}` : ip, identity: ep?.identity ?? 2, labels, pod };
}

/** The connection a flow belongs to, in its first direction; undefined for replies and non-L4 flows. */
function connectionOf(flow: Flow) {
  const l4 = flow.l4?.protocol;
  if (!l4 || (l4.case !== 'TCP' && l4.case !== 'UDP' && l4.case !== 'SCTP')) return undefined;
  if (flow.isReply === true) return undefined;
  return {
    source: sideOf(flow.source, flow.IP?.source ?? ''),
    destination: sideOf(flow.destination, flow.IP?.destination ?? ''),
    protocol: l4.case,
    sport: l4.value.sourcePort,
    port: l4.value.destinationPort,
  };
}

const refText = (r: PolicyRef) => `${r.namespace ? `${r.namespace}/` : ''}${r.name} (${r.kind})`;

interface Decision {
  allowed: boolean;
  ends: { verdict: Verdict; side: Side; direction: 'egress' | 'ingress' }[];
}

class Evaluator {
  private readonly cache = new Map<string, PolicyLookup>();
  constructor(
    private readonly policies: readonly StoredPolicyLike[],
    private readonly identities: readonly IdentityInfo[],
  ) {}

  private lookup(side: Side): PolicyLookup {
    const key = JSON.stringify(side.labels);
    let l = this.cache.get(key);
    if (!l) {
      l = new PolicyLookup(compileEndpoint(side.labels, this.policies, this.identities));
      this.cache.set(key, l);
    }
    return l;
  }

  /** Both ends' verdicts; the connection passes when both allow. */
  decide(src: Side, dst: Side, protocol: number, port: number): Decision {
    const ends: Decision['ends'] = [];
    if (src.pod)
      ends.push({
        verdict: this.lookup(src).verdict('egress', dst.identity, protocol, port),
        side: src,
        direction: 'egress',
      });
    if (dst.pod)
      ends.push({
        verdict: this.lookup(dst).verdict('ingress', src.identity, protocol, port),
        side: dst,
        direction: 'ingress',
      });
    return { allowed: ends.every((e) => e.verdict.allowed), ends };
  }

  /** The policies behind the ends that decide: the matching entry's, or (default deny) its trigger's. */
  namesFor(d: Decision): string[] {
    const names = new Set<string>();
    for (const { verdict, side, direction } of d.ends) {
      if (verdict.allowed !== d.allowed || !verdict.active) continue;
      const refs = verdict.entry?.policies.length
        ? verdict.entry.policies
        : verdict.allowed
          ? []
          : this.lookup(side).compiled[direction].enforcedBy;
      for (const r of refs) names.add(refText(r));
    }
    return [...names];
  }
}

/** The policy set after applying `incoming` on top of `current` (same kind/namespace/name replaced). */
export function afterApply(
  current: readonly StoredPolicyLike[],
  incoming: readonly StoredPolicyLike[],
): StoredPolicyLike[] {
  const replaced = new Set(incoming.map(policyId));
  return [...current.filter((p) => !replaced.has(policyId(p))), ...incoming];
}

export function previewFlows(
  flows: readonly Flow[],
  current: readonly StoredPolicyLike[],
  pending: readonly StoredPolicyLike[],
): PreviewResult {
  const conns = new Map<string, NonNullable<ReturnType<typeof connectionOf>>>();
  const identities = new Map<number, IdentityInfo>();
  for (const flow of flows) {
    const c = connectionOf(flow);
    if (!c) continue;
    for (const s of [c.source, c.destination])
      identities.set(s.identity, { id: s.identity, labels: s.labels });
    conns.set(`${c.source.name}|${c.sport}|${c.destination.name}|${c.port}|${c.protocol}`, c);
  }
  const list = [...identities.values()];
  const before = new Evaluator(current, list);
  const after = new Evaluator(pending, list);
  const rows = new Map<string, PreviewRow>();
  let unchanged = 0;
  for (const c of conns.values()) {
    const proto = PROTOCOLS[c.protocol] ?? 0;
    const was = before.decide(c.source, c.destination, proto, c.port);
    const will = after.decide(c.source, c.destination, proto, c.port);
    if (was.allowed === will.allowed) {
      unchanged++;
      continue;
    }
    const change: Change = will.allowed ? 'would-open' : 'would-block';
    const key = `${c.source.name}|${c.destination.name}|${c.port}|${c.protocol}|${change}`;
    const row = rows.get(key) ?? {
      source: c.source.name,
      destination: c.destination.name,
      protocol: c.protocol,
      port: c.port,
      change,
      connections: 0,
      by: after.namesFor(will),
    };
    row.connections++;
    rows.set(key, row);
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      a.change.localeCompare(b.change) ||
      a.source.localeCompare(b.source) ||
      a.destination.localeCompare(b.destination) ||
      a.port - b.port,
  );
  return { connections: conns.size, unchanged, rows: sorted };
}

export function formatPreview(r: PreviewResult): string[] {
  const lines = [
    `${r.connections} connections seen: ${r.rows.reduce((n, x) => n + x.connections, 0)} would change, ${r.unchanged} unchanged`,
  ];
  if (r.rows.length === 0) return lines;
  const table = [
    ['CHANGE', 'SOURCE', 'DESTINATION', 'CONNECTIONS', 'BY'],
    ...r.rows.map((x) => [
      x.change,
      x.source,
      `${x.destination}:${x.port}/${x.protocol}`,
      String(x.connections),
      x.by.join(', ') || (x.change === 'would-block' ? 'default deny' : '-'),
    ]),
  ];
  lines.push(...columns(table));
  return lines;
}
