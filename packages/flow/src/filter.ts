// Hubble FlowFilter semantics: fields inside one filter are ANDed, values inside one field are
// ORed, filters in a list are ORed, and the result is whitelist minus blacklist. The fields are
// validated and compiled once (filter-spec.ts); this file makes the predicate on a flow.Flow,
// record-filter.ts the same predicate on the live path's FlowRecord.
import type { Endpoint, Flow, FlowFilter } from './gen/flow/flow_pb.js';
import { encryptionFields } from './encryption.js';
import { parseLabel } from './labels.js';
import { tcpFlagBits } from './record.js';
import {
  anyLabelTest,
  bytesAmong,
  compileClauses,
  namespacedMatches,
  type FilterClause,
} from './filter-spec.js';
import { recordClause, type RecordPredicate } from './record-filter.js';

export {
  FilterError,
  describeUnknownFields,
  flowFilterExtensionTypeUrl,
  packFilterExtension,
} from './filter-spec.js';

export type FlowPredicate = (flow: Flow) => boolean;

/** One request's filters on both shapes of a flow: the same answer for a record and its Flow. */
export interface FilterPredicates {
  flow: FlowPredicate;
  record: RecordPredicate;
}

function ports(flow: Flow): [number, number] | undefined {
  const p = flow.l4?.protocol;
  if (!p) return undefined;
  if (p.case === 'TCP' || p.case === 'UDP' || p.case === 'SCTP')
    return [p.value.sourcePort, p.value.destinationPort];
  return undefined;
}

function matchesProtocol(flow: Flow, proto: string): boolean {
  const l4 = flow.l4?.protocol.case;
  switch (proto) {
    case 'tcp':
      return l4 === 'TCP';
    case 'udp':
      return l4 === 'UDP';
    case 'sctp':
      return l4 === 'SCTP';
    case 'icmpv4':
      return l4 === 'ICMPv4';
    case 'icmpv6':
      return l4 === 'ICMPv6';
    case 'icmp':
      return l4 === 'ICMPv4' || l4 === 'ICMPv6';
    case 'http':
      return flow.l7?.record.case === 'http';
    case 'dns':
      return flow.l7?.record.case === 'dns';
    default:
      return false;
  }
}

function httpPathOf(url: string): string {
  try {
    return new URL(url, 'http://x').pathname;
  } catch {
    return url; // keep the raw url
  }
}

function flowClause(c: FilterClause): FlowPredicate {
  const source = 'side' in c && c.side === 'source';
  const ep = (flow: Flow): Endpoint | undefined => (source ? flow.source : flow.destination);
  switch (c.kind) {
    case 'uuid':
      return (flow) => c.set.has(flow.uuid);
    case 'ip':
      return c.side === 'source'
        ? (flow) => c.match(flow.IP?.source ?? '')
        : (flow) => c.match(flow.IP?.destination ?? '');
    case 'pod':
      return (flow) => {
        const e = ep(flow);
        return !!e && namespacedMatches(c.wanted, e.namespace, e.podName);
      };
    case 'service':
      return (flow) => {
        const s = c.side === 'source' ? flow.sourceService : flow.destinationService;
        return !!s && namespacedMatches(c.wanted, s.namespace, s.name);
      };
    case 'fqdn':
      return (flow) =>
        (c.side === 'source' ? flow.sourceNames : flow.destinationNames).some((n) =>
          c.patterns.some((r) => r.test(n.replace(/\.$/, ''))),
        );
    case 'label':
      return (flow) => {
        const labels = (ep(flow)?.labels ?? []).map(parseLabel);
        return anyLabelTest(c.selectors, labels);
      };
    case 'nodeLabels':
      return (flow) => {
        const labels = flow.nodeLabels.map(parseLabel);
        return anyLabelTest(c.selectors, labels);
      };
    case 'workload':
      return (flow) =>
        (ep(flow)?.workloads ?? []).some((have) =>
          c.wanted.some((w) => (!w.name || w.name === have.name) && (!w.kind || w.kind === have.kind)),
        );
    case 'identity':
      return (flow) => c.set.has(ep(flow)?.identity ?? 0);
    case 'port': {
      const which = c.side === 'source' ? 0 : 1;
      return (flow) => {
        const p = ports(flow);
        return p !== undefined && c.wanted.includes(p[which]);
      };
    }
    case 'trafficDirection':
      return (flow) => c.set.has(flow.trafficDirection);
    case 'verdict':
      return (flow) => c.set.has(flow.verdict);
    case 'dropReasonDesc':
      return (flow) => c.set.has(flow.dropReasonDesc);
    case 'ipVersion':
      return (flow) => c.set.has(flow.IP?.ipVersion ?? 0);
    case 'interface':
      return (flow) => {
        const i = flow.interface;
        return (
          !!i && c.wanted.some((w) => (!w.name || w.name === i.name) && (!w.index || w.index === i.index))
        );
      };
    case 'eventType':
      return (flow) => {
        const et = flow.eventType;
        return (
          !!et && c.wanted.some((w) => w.type === et.type && (!w.matchSubType || w.subType === et.subType))
        );
      };
    case 'httpStatusCode':
      return (flow) => {
        const r = flow.l7?.record;
        return r?.case === 'http' && c.checks.some((check) => check(r.value.code));
      };
    case 'protocol':
      return (flow) => c.wanted.some((p) => matchesProtocol(flow, p));
    case 'reply':
      return (flow) => flow.isReply !== undefined && c.wanted.includes(flow.isReply);
    case 'encrypted':
      return (flow) => c.wanted.includes(flow.IP?.encrypted ?? false);
    case 'dnsQuery':
      return (flow) => {
        const r = flow.l7?.record;
        return r?.case === 'dns' && c.patterns.some((re) => re.test(r.value.query));
      };
    case 'httpPath':
      return (flow) => {
        const r = flow.l7?.record;
        if (r?.case !== 'http') return false;
        const path = httpPathOf(r.value.url);
        return c.patterns.some((re) => re.test(path));
      };
    case 'nodeName':
      return (flow) => c.patterns.some((r) => r.test(flow.nodeName));
    case 'httpMethod':
      return (flow) => {
        const r = flow.l7?.record;
        return r?.case === 'http' && c.wanted.includes(r.value.method.toUpperCase());
      };
    case 'tcpFlags':
      return (flow) => {
        const p = flow.l4?.protocol;
        if (p?.case !== 'TCP' || !p.value.flags) return false;
        const have = tcpFlagBits(p.value.flags);
        return c.masks.some((m) => (have & m) === m);
      };
    case 'traceId':
      // Wirescope carries no trace context, so a trace_id filter selects nothing.
      return () => false;
    case 'peerNode':
      return (flow) => {
        const enc = encryptionFields(flow);
        return bytesAmong(c.names, enc.bytes, enc.peerStart, enc.peerEnd);
      };
    case 'mechanism':
      return (flow) => c.set.has(encryptionFields(flow).mechanism);
  }
}

/** Every predicate holds (an empty list: always). */
function allOf<T>(preds: ((x: T) => boolean)[]): (x: T) => boolean {
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (x) => {
    for (const p of preds) if (!p(x)) return false;
    return true;
  };
}

/** Whitelist (any) minus blacklist (any); an empty whitelist admits everything. */
function allowMinusDeny<T>(allow: ((x: T) => boolean)[], deny: ((x: T) => boolean)[]): (x: T) => boolean {
  if (allow.length === 0 && deny.length === 0) return () => true;
  return (x) => {
    let allowed = allow.length === 0;
    for (let i = 0; !allowed && i < allow.length; i++) allowed = allow[i]!(x);
    if (!allowed) return false;
    for (const p of deny) if (p(x)) return false;
    return true;
  };
}

/** Compiles one FlowFilter into a predicate; every field that is set must match. */
export function compileFilter(filter: FlowFilter, path = 'filter'): FlowPredicate {
  return allOf(compileClauses(filter, path).map(flowClause));
}

/** Whitelist (any) minus blacklist (any) on a flow.Flow; an empty whitelist admits everything. */
export function compileFilters(whitelist: FlowFilter[], blacklist: FlowFilter[]): FlowPredicate {
  return compileFilterPredicates(whitelist, blacklist).flow;
}

/**
 * compileFilters on both a flow.Flow and a FlowRecord, validated once: the live path filters
 * its records without building a Flow per flow (both give the same answer for a record and
 * recordToFlow of it).
 */
export function compileFilterPredicates(whitelist: FlowFilter[], blacklist: FlowFilter[]): FilterPredicates {
  const allow = whitelist.map((flt, i) => compileClauses(flt, `whitelist[${i}]`));
  const deny = blacklist.map((flt, i) => compileClauses(flt, `blacklist[${i}]`));
  const on = <T>(clause: (c: FilterClause) => (x: T) => boolean) =>
    allowMinusDeny(
      allow.map((cs) => allOf(cs.map(clause))),
      deny.map((cs) => allOf(cs.map(clause))),
    );
  return { flow: on(flowClause), record: on(recordClause) };
}
