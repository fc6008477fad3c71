// Drops and verdicts: drops by reason over time, top dropped pairs, and policy verdicts (only when
// the flows carry any: a cluster without policy shows that it has none, not an empty chart).
import { destinationName, dropReason, sourceName, type FlowView } from '../../shared/flow-fields.js';

export interface DropSeries {
  bucketMs: number;
  start: number;
  /** reason -> count per bucket. */
  reasons: Map<string, number[]>;
  buckets: number;
}

export function dropsOverTime(
  flows: Iterable<FlowView>,
  bucketMs: number,
  now = Date.now(),
  buckets = 30,
): DropSeries {
  const start = Math.floor(now / bucketMs) * bucketMs - (buckets - 1) * bucketMs;
  const reasons = new Map<string, number[]>();
  for (const f of flows) {
    const reason = dropReason(f);
    if (!reason) continue;
    const t = Date.parse(f.time ?? '');
    const i = Math.floor((t - start) / bucketMs);
    if (!(i >= 0 && i < buckets)) continue;
    let row = reasons.get(reason);
    if (!row) reasons.set(reason, (row = new Array<number>(buckets).fill(0)));
    row[i]!++;
  }
  return { bucketMs, start, reasons, buckets };
}

export interface DroppedPair {
  pair: string;
  reason: string;
  count: number;
}

export function topDroppedPairs(flows: Iterable<FlowView>, n = 10): DroppedPair[] {
  const counts = new Map<string, DroppedPair>();
  for (const f of flows) {
    const reason = dropReason(f);
    if (!reason) continue;
    const pair = `${sourceName(f)} → ${destinationName(f)}`;
    const key = `${pair}|${reason}`;
    const row = counts.get(key) ?? { pair, reason, count: 0 };
    row.count++;
    counts.set(key, row);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, n);
}

/** Monitor type 5: Cilium's policy-verdict events. */
const policyVerdictType = 5;

export interface PolicyVerdictRow {
  policy: string;
  verdict: string;
  count: number;
}

export function policyVerdicts(flows: Iterable<FlowView>): PolicyVerdictRow[] {
  const counts = new Map<string, PolicyVerdictRow>();
  const add = (policy: string, verdict: string) => {
    const key = `${policy}|${verdict}`;
    const row = counts.get(key) ?? { policy, verdict, count: 0 };
    row.count++;
    counts.set(key, row);
  };
  for (const f of flows) {
    const named = [
      ...(f.egress_allowed_by ?? []).map((p) => ['allowed', p] as const),
      ...(f.ingress_allowed_by ?? []).map((p) => ['allowed', p] as const),
      ...(f.egress_denied_by ?? []).map((p) => ['denied', p] as const),
      ...(f.ingress_denied_by ?? []).map((p) => ['denied', p] as const),
    ];
    for (const [verdict, p] of named) add(`${p.namespace ? `${p.namespace}/` : ''}${p.name ?? '?'}`, verdict);
    if (!named.length && f.event_type?.type === policyVerdictType) add('(unnamed policy)', f.verdict ?? '');
    if (!named.length && f.drop_reason_desc === 'POLICY_DENIED') add('(policy deny)', 'denied');
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}
