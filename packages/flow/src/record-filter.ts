// FlowFilter clauses (filter-spec.ts) as predicates on the live path's FlowRecord: the same
// answer as the Flow predicate (filter.ts) on recordToFlow(record), read off the record's own
// fields and its shared, frozen FlowEndpoint/FlowExtension, with no Flow built per flow.
//
// No clause falls back to recordToFlow. The fields a record does not carry (services, DNS names,
// node labels, l7) are the ones recordToFlow leaves unset, so their clauses have one answer for
// every record, settled here at compile time. A field added to FlowRecord and recordToFlow must
// be read here too (record-filter.test.ts compares both predicates on every recorded flow).
import { extensionEncryptionFields } from './encryption.js';
import type { ParsedLabel } from './labels.js';
import { RecordL4, type FlowEndpoint, type FlowRecord } from './record.js';
import { anyLabelTest, bytesAmong, namespacedMatches, type FilterClause } from './filter-spec.js';

export type RecordPredicate = (record: FlowRecord) => boolean;

const noLabels: readonly ParsedLabel[] = Object.freeze([]);
const never: RecordPredicate = () => false;
const always: RecordPredicate = () => true;

/** Bit (l4 + 1) for each RecordL4 case a protocol filter name selects. */
function protocolMask(names: string[]): number {
  const bit = (l4: number) => 1 << (l4 + 1);
  let mask = 0;
  for (const name of names) {
    if (name === 'tcp') mask |= bit(RecordL4.TCP);
    else if (name === 'udp') mask |= bit(RecordL4.UDP);
    else if (name === 'sctp') mask |= bit(RecordL4.SCTP);
    else if (name === 'icmpv4') mask |= bit(RecordL4.ICMPv4);
    else if (name === 'icmpv6') mask |= bit(RecordL4.ICMPv6);
    else if (name === 'icmp') mask |= bit(RecordL4.ICMPv4) | bit(RecordL4.ICMPv6);
    // http, dns: an l7 record, which a FlowRecord never has; kafka matches nothing on a Flow either
  }
  return mask;
}

function hasPorts(r: FlowRecord): boolean {
  return r.l4 === RecordL4.TCP || r.l4 === RecordL4.UDP || r.l4 === RecordL4.SCTP;
}

export function recordClause(c: FilterClause): RecordPredicate {
  const source = 'side' in c && c.side === 'source';
  const ep = (r: FlowRecord): FlowEndpoint | undefined => (source ? r.source : r.destination);
  switch (c.kind) {
    case 'uuid':
      return (r) => c.set.has(r.uuid);
    case 'ip':
      return c.side === 'source'
        ? (r) => c.match(r.hasIP ? r.ipSource : '')
        : (r) => c.match(r.hasIP ? r.ipDestination : '');
    case 'pod':
      return (r) => {
        const e = ep(r)?.message;
        return !!e && namespacedMatches(c.wanted, e.namespace, e.podName);
      };
    case 'label':
      return (r) => {
        const labels = ep(r)?.parsedLabels ?? noLabels;
        return anyLabelTest(c.selectors, labels);
      };
    case 'workload':
      return (r) =>
        (ep(r)?.message.workloads ?? []).some((have) =>
          c.wanted.some((w) => (!w.name || w.name === have.name) && (!w.kind || w.kind === have.kind)),
        );
    case 'identity':
      return (r) => c.set.has(ep(r)?.message.identity ?? 0);
    case 'port': {
      const wanted = c.wanted;
      return c.side === 'source'
        ? (r) => hasPorts(r) && wanted.includes(r.sourcePort)
        : (r) => hasPorts(r) && wanted.includes(r.destinationPort);
    }
    case 'trafficDirection':
      return (r) => c.set.has(r.trafficDirection);
    case 'verdict':
      return (r) => c.set.has(r.verdict);
    case 'dropReasonDesc':
      return (r) => c.set.has(r.dropReasonDesc);
    case 'ipVersion':
      return (r) => c.set.has(r.hasIP ? r.ipVersion : 0);
    case 'interface':
      return (r) =>
        r.interfaceIndex >= 0 &&
        c.wanted.some(
          (w) => (!w.name || w.name === r.interfaceName) && (!w.index || w.index === r.interfaceIndex),
        );
    case 'eventType':
      return (r) =>
        r.eventType >= 0 &&
        c.wanted.some((w) => w.type === r.eventType && (!w.matchSubType || w.subType === r.eventSubType));
    case 'protocol': {
      const mask = protocolMask(c.wanted);
      return mask === 0 ? never : (r) => ((mask >> (r.l4 + 1)) & 1) === 1;
    }
    case 'reply':
      return (r) => r.isReply >= 0 && c.wanted.includes(r.isReply === 1);
    case 'encrypted':
      return (r) => c.wanted.includes(r.hasIP && r.ipEncrypted);
    case 'nodeName':
      return (r) => c.patterns.some((re) => re.test(r.nodeName));
    case 'tcpFlags':
      return (r) => {
        if (r.l4 !== RecordL4.TCP || r.tcpFlags < 0) return false;
        const have = r.tcpFlags;
        return c.masks.some((m) => (have & m) === m);
      };
    case 'peerNode':
      return (r) => {
        const enc = extensionEncryptionFields(r.extensions?.message);
        return bytesAmong(c.names, enc.bytes, enc.peerStart, enc.peerEnd);
      };
    case 'mechanism':
      return (r) => c.set.has(extensionEncryptionFields(r.extensions?.message).mechanism);
    case 'nodeLabels':
      // a record has no node labels: the Flow predicate sees an empty list
      return anyLabelTest(c.selectors, noLabels) ? always : never;
    case 'service':
    case 'fqdn':
    case 'httpStatusCode':
    case 'dnsQuery':
    case 'httpPath':
    case 'httpMethod':
    // no service, DNS name or l7 record on a FlowRecord; no trace context anywhere
    case 'traceId':
      return never;
  }
}
