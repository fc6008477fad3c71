// The one validation of a Hubble FlowFilter: every field that is set is checked and compiled into
// a clause (sets, regexps, selectors, bit masks), once per request. The clauses are then turned
// into predicates twice: on a flow.Flow (filter.ts) and on the live path's FlowRecord
// (record-filter.ts), so both read exactly the same compiled values.
import { BlockList, isIP } from 'node:net';
import { create, fromBinary, toBinary, type DescEnum } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import {
  DropReasonSchema,
  IPVersionSchema,
  TrafficDirectionSchema,
  VerdictSchema,
  type FlowFilter,
} from './gen/flow/flow_pb.js';
import {
  FlowFilterExtensionSchema,
  MechanismSchema,
  type FlowFilterExtension,
} from './gen/wirescope/v1/wirescope_pb.js';
import { compileSelector, parseSelector, type ParsedLabel } from './labels.js';
import { tcpFlagBits, tcpFlagNames } from './record.js';

/** A filter the server cannot accept; `field` names it (e.g. "whitelist[0].source_ip"). */
export class FilterError extends Error {
  override name = 'FilterError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export type Side = 'source' | 'destination';
/** One label selector of a filter (selectors in a field are ORed). */
export type LabelTest = (labels: readonly ParsedLabel[]) => boolean;
/** "namespace/[name-prefix]" of a pod or service filter. */
export interface Namespaced {
  namespace: string;
  prefix: string;
}

/**
 * One set field of a FlowFilter, validated and compiled: a flow matches the filter when it
 * matches every clause. Each predicate builder switches over every kind (the compiler checks).
 */
export type FilterClause =
  | { kind: 'uuid'; set: Set<string> }
  | { kind: 'ip'; side: Side; match: (ip: string) => boolean }
  | { kind: 'pod' | 'service'; side: Side; wanted: Namespaced[] }
  | { kind: 'fqdn'; side: Side; patterns: RegExp[] }
  | { kind: 'label'; side: Side; selectors: LabelTest[] }
  | { kind: 'nodeLabels'; selectors: LabelTest[] }
  | { kind: 'workload'; side: Side; wanted: { name: string; kind: string }[] }
  | { kind: 'identity'; side: Side; set: Set<number> }
  | { kind: 'port'; side: Side; wanted: number[] }
  | { kind: 'trafficDirection' | 'verdict' | 'dropReasonDesc' | 'ipVersion'; set: Set<number> }
  | { kind: 'interface'; wanted: { name: string; index: number }[] }
  | { kind: 'eventType'; wanted: { type: number; matchSubType: boolean; subType: number }[] }
  | { kind: 'httpStatusCode'; checks: ((code: number) => boolean)[] }
  | { kind: 'protocol'; wanted: string[] }
  | { kind: 'reply' | 'encrypted'; wanted: boolean[] }
  | { kind: 'dnsQuery' | 'httpPath' | 'nodeName'; patterns: RegExp[] }
  | { kind: 'httpMethod'; wanted: string[] }
  /** every wanted flag of one entry set: bits as FlowRecord.tcpFlags */
  | { kind: 'tcpFlags'; masks: number[] }
  | { kind: 'traceId' }
  /** Encryption.peer_node, as UTF-8 bytes (compared in place, no string per flow) */
  | { kind: 'peerNode'; names: Uint8Array[] }
  | { kind: 'mechanism'; set: Set<number> };

const protocols = new Set(['tcp', 'udp', 'icmpv4', 'icmpv6', 'sctp', 'icmp', 'http', 'dns', 'kafka']);

function checkEnum(field: string, desc: DescEnum, values: number[]): Set<number> {
  for (const v of values) {
    if (!desc.values.some((d) => d.number === v)) {
      throw new FilterError(
        field,
        `unknown value ${v}; accepted: ${desc.values.map((d) => d.name).join(', ')}`,
      );
    }
  }
  return new Set(values);
}

function compileIps(field: string, values: string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const raw of values) {
    const v = raw.trim();
    const slash = v.indexOf('/');
    const addr = slash === -1 ? v : v.slice(0, slash);
    const family = isIP(addr);
    if (family === 0)
      throw new FilterError(
        field,
        `"${raw}" is not an IP address or CIDR (e.g. 10.0.0.1, 10.0.0.0/8, fd00::/64)`,
      );
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) list.addAddress(addr, type);
    else {
      const prefixText = v.slice(slash + 1);
      const prefix = Number(prefixText);
      const max = family === 4 ? 32 : 128;
      if (!/^\d+$/.test(prefixText) || prefix > max) {
        throw new FilterError(field, `"${raw}" has an invalid prefix length (accepted: 0-${max})`);
      }
      list.addSubnet(addr, prefix, type);
    }
  }
  return (ip) => {
    const family = isIP(ip);
    if (family === 0) return false;
    return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  };
}

function splitNamespaced(field: string, raw: string): Namespaced {
  const slash = raw.indexOf('/');
  if (slash <= 0) throw new FilterError(field, `"${raw}" must be "namespace/[name-prefix]" with a namespace`);
  return { namespace: raw.slice(0, slash), prefix: raw.slice(slash + 1) };
}

/** A pod or service filter on an endpoint's namespace and name (false for an unnamed one). */
export function namespacedMatches(wanted: Namespaced[], namespace: string, name: string): boolean {
  if (name === '' && namespace === '') return false;
  for (const p of wanted) if (p.namespace === namespace && name.startsWith(p.prefix)) return true;
  return false;
}

/** Any of a field's label selectors holds. */
export function anyLabelTest(tests: LabelTest[], labels: readonly ParsedLabel[]): boolean {
  for (const t of tests) if (t(labels)) return true;
  return false;
}

/** Whether the UTF-8 bytes bytes[start, end) are one of `names`. */
export function bytesAmong(names: Uint8Array[], bytes: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len === 0) return false;
  for (const name of names) {
    if (name.length !== len) continue;
    let i = 0;
    while (i < len && name[i] === bytes[start + i]) i++;
    if (i === len) return true;
  }
  return false;
}

function globToRegExp(field: string, pattern: string, caseInsensitive: boolean): RegExp {
  if (pattern === '') throw new FilterError(field, 'empty pattern');
  if (!/^[A-Za-z0-9_.*?:/\-]+$/.test(pattern)) {
    throw new FilterError(
      field,
      `"${pattern}" may contain only letters, digits, ".", "-", "_", "/", ":" and the wildcards * ?`,
    );
  }
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, caseInsensitive ? 'i' : '');
}

function compileRegexps(field: string, values: string[]): RegExp[] {
  return values.map((v) => {
    try {
      return new RegExp(v);
    } catch (err) {
      throw new FilterError(field, `invalid regular expression "${v}": ${(err as Error).message}`);
    }
  });
}

function compileSelectors(field: string, values: string[]): LabelTest[] {
  return values.map((v) => {
    try {
      return compileSelector(parseSelector(v));
    } catch (err) {
      throw new FilterError(field, (err as Error).message);
    }
  });
}

function compilePorts(field: string, values: string[]): number[] {
  return values.map((v) => {
    if (!/^\d+$/.test(v) || Number(v) > 65535)
      throw new FilterError(field, `"${v}" is not a port number (accepted: 0-65535)`);
    return Number(v);
  });
}

function compileStatusCodes(field: string, values: string[]): ((code: number) => boolean)[] {
  return values.map((v) => {
    const m = /^(?:([1-5]\d\d)|([1-5]\d?)\+)$/.exec(v);
    if (!m)
      throw new FilterError(field, `"${v}" is not a status code or prefix (accepted e.g. 404, 4+, 40+)`);
    const exact = m[1];
    const prefix = m[2] ?? '';
    return exact !== undefined
      ? (code: number) => String(code) === exact
      : (code: number) => String(code).startsWith(prefix);
  });
}

export const flowFilterExtensionTypeUrl = 'type.googleapis.com/wirescope.v1.FlowFilterExtension';

/** FlowFilter.extensions for `ext`; undefined when it sets nothing (the field stays off the wire). */
export function packFilterExtension(ext: FlowFilterExtension): Any | undefined {
  if (ext.peerNode.length === 0 && ext.mechanism.length === 0) return undefined;
  return create(AnySchema, {
    typeUrl: flowFilterExtensionTypeUrl,
    value: toBinary(FlowFilterExtensionSchema, ext),
  });
}

/** Unpacks FlowFilter.extensions (see flow.proto for why Wirescope's filter fields live there). */
function unpackExtension(filter: FlowFilter, field: string): FlowFilterExtension | undefined {
  const any = filter.extensions;
  if (!any) return undefined;
  if (any.typeUrl !== flowFilterExtensionTypeUrl)
    throw new FilterError(field, `unknown type "${any.typeUrl}"; accepted: ${flowFilterExtensionTypeUrl}`);
  let ext: FlowFilterExtension;
  try {
    ext = fromBinary(FlowFilterExtensionSchema, any.value);
  } catch (err) {
    throw new FilterError(field, `malformed wirescope.v1.FlowFilterExtension: ${(err as Error).message}`);
  }
  // a newer client's filter this server does not know would otherwise match everything
  const unknown = describeUnknownFields(ext.$unknown);
  if (unknown) throw new FilterError(field, `not supported by this Wirescope: ${unknown}`);
  return ext;
}

/**
 * Hubble FlowFilter fields Wirescope does not implement (cilium api/v1/flow/flow.proto numbers)
 * with the stock `hubble observe` flag that sets each: a filter carrying one is refused, because
 * ignoring it would silently match flows the user meant to exclude.
 */
const unsupportedFilterFields: ReadonlyMap<number, string> = new Map([
  [31, 'http_url (hubble observe --http-url)'],
  [32, 'http_header (hubble observe --http-header)'],
  [34, 'source_ip_xlated (hubble observe --snat-ip)'],
  [37, 'source_cluster_name (hubble observe --cluster / --from-cluster)'],
  [38, 'destination_cluster_name (hubble observe --cluster / --to-cluster)'],
  [39, 'ip_trace_id (hubble observe --ip-trace-id)'],
  [999, 'experimental.cel_expression (hubble observe --cel-expression)'],
]);

/** Names the fields a decoder kept as unknown, e.g. "field 37 source_cluster_name (…)". */
export function describeUnknownFields(
  unknown: readonly { no: number }[] | undefined,
  known: ReadonlyMap<number, string> = new Map(),
): string | undefined {
  if (!unknown || unknown.length === 0) return undefined;
  const numbers = [...new Set(unknown.map((u) => u.no))].sort((a, b) => a - b);
  return numbers.map((no) => `field ${no}${known.has(no) ? ` ${known.get(no)}` : ''}`).join(', ');
}

/** The clauses of one FlowFilter (none: it matches every flow); throws FilterError naming a bad field. */
export function compileClauses(filter: FlowFilter, path = 'filter'): FilterClause[] {
  const unsupported = describeUnknownFields(filter.$unknown, unsupportedFilterFields);
  if (unsupported) throw new FilterError(path, `not supported by Wirescope: ${unsupported}`);
  const out: FilterClause[] = [];
  const f = `${path}.`;
  const sides = (
    name: string,
    source: string[],
    destination: string[],
    clause: (field: string, values: string[], side: Side) => FilterClause,
  ) => {
    if (source.length) out.push(clause(`${f}source_${name}`, source, 'source'));
    if (destination.length) out.push(clause(`${f}destination_${name}`, destination, 'destination'));
  };

  if (filter.uuid.length) out.push({ kind: 'uuid', set: new Set(filter.uuid) });
  sides('ip', filter.sourceIp, filter.destinationIp, (field, values, side) => ({
    kind: 'ip',
    side,
    match: compileIps(field, values),
  }));
  sides('pod', filter.sourcePod, filter.destinationPod, (field, values, side) => ({
    kind: 'pod',
    side,
    wanted: values.map((v) => splitNamespaced(field, v)),
  }));
  sides('service', filter.sourceService, filter.destinationService, (field, values, side) => ({
    kind: 'service',
    side,
    wanted: values.map((v) => splitNamespaced(field, v)),
  }));
  sides('fqdn', filter.sourceFqdn, filter.destinationFqdn, (field, values, side) => ({
    kind: 'fqdn',
    side,
    patterns: values.map((p) => globToRegExp(field, p, true)),
  }));
  sides('label', filter.sourceLabel, filter.destinationLabel, (field, values, side) => ({
    kind: 'label',
    side,
    selectors: compileSelectors(field, values),
  }));
  if (filter.nodeLabels.length)
    out.push({ kind: 'nodeLabels', selectors: compileSelectors(`${f}node_labels`, filter.nodeLabels) });

  for (const side of ['source', 'destination'] as const) {
    const wanted = side === 'source' ? filter.sourceWorkload : filter.destinationWorkload;
    if (wanted.length === 0) continue;
    for (const w of wanted)
      if (!w.name && !w.kind)
        throw new FilterError(`${f}${side}_workload`, 'a workload needs a name or a kind');
    out.push({ kind: 'workload', side, wanted: wanted.map((w) => ({ name: w.name, kind: w.kind })) });
  }

  const enums = [
    ['trafficDirection', 'traffic_direction', TrafficDirectionSchema, filter.trafficDirection],
    ['verdict', 'verdict', VerdictSchema, filter.verdict],
    ['dropReasonDesc', 'drop_reason_desc', DropReasonSchema, filter.dropReasonDesc],
    ['ipVersion', 'ip_version', IPVersionSchema, filter.ipVersion],
  ] as const;
  for (const [kind, field, desc, values] of enums)
    if (values.length) out.push({ kind, set: checkEnum(`${f}${field}`, desc, values) });

  if (filter.interface.length) {
    for (const w of filter.interface)
      if (!w.name && !w.index)
        throw new FilterError(`${f}interface`, 'an interface needs a name or an index');
    out.push({ kind: 'interface', wanted: filter.interface.map((w) => ({ name: w.name, index: w.index })) });
  }
  if (filter.eventType.length) {
    const wanted = filter.eventType.map((w) => ({
      type: w.type,
      matchSubType: w.matchSubType,
      subType: w.subType,
    }));
    out.push({ kind: 'eventType', wanted });
  }
  if (filter.httpStatusCode.length)
    out.push({
      kind: 'httpStatusCode',
      checks: compileStatusCodes(`${f}http_status_code`, filter.httpStatusCode),
    });
  if (filter.protocol.length) {
    const wanted = filter.protocol.map((p) => {
      const lower = p.toLowerCase();
      if (!protocols.has(lower))
        throw new FilterError(
          `${f}protocol`,
          `unknown protocol "${p}"; accepted: ${[...protocols].join(', ')}`,
        );
      return lower;
    });
    out.push({ kind: 'protocol', wanted });
  }
  sides('port', filter.sourcePort, filter.destinationPort, (field, values, side) => ({
    kind: 'port',
    side,
    wanted: compilePorts(field, values),
  }));
  if (filter.reply.length) out.push({ kind: 'reply', wanted: filter.reply });
  if (filter.dnsQuery.length)
    out.push({ kind: 'dnsQuery', patterns: compileRegexps(`${f}dns_query`, filter.dnsQuery) });
  for (const side of ['source', 'destination'] as const) {
    const ids = side === 'source' ? filter.sourceIdentity : filter.destinationIdentity;
    if (ids.length) out.push({ kind: 'identity', side, set: new Set(ids) });
  }
  if (filter.httpMethod.length)
    out.push({ kind: 'httpMethod', wanted: filter.httpMethod.map((m) => m.toUpperCase()) });
  if (filter.httpPath.length)
    out.push({ kind: 'httpPath', patterns: compileRegexps(`${f}http_path`, filter.httpPath) });
  if (filter.tcpFlags.length) {
    const masks = filter.tcpFlags.map((w) => {
      const bits = tcpFlagBits(w);
      if (bits === 0)
        throw new FilterError(
          `${f}tcp_flags`,
          `set at least one flag (accepted: ${tcpFlagNames.join(', ')})`,
        );
      return bits;
    });
    out.push({ kind: 'tcpFlags', masks });
  }
  if (filter.nodeName.length)
    out.push({
      kind: 'nodeName',
      patterns: filter.nodeName.map((p) => globToRegExp(`${f}node_name`, p, false)),
    });
  if (filter.traceId.length) out.push({ kind: 'traceId' });
  if (filter.encrypted.length) out.push({ kind: 'encrypted', wanted: filter.encrypted });

  const extField = `${f}extensions`;
  const ext = unpackExtension(filter, extField);
  if (ext?.peerNode.length) {
    const encoder = new TextEncoder();
    const names = ext.peerNode.map((name) => {
      if (name === '') throw new FilterError(`${extField}.peer_node`, 'empty node name');
      return encoder.encode(name);
    });
    out.push({ kind: 'peerNode', names });
  }
  if (ext?.mechanism.length)
    out.push({ kind: 'mechanism', set: checkEnum(`${extField}.mechanism`, MechanismSchema, ext.mechanism) });
  return out;
}
