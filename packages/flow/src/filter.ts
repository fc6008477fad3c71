// Hubble FlowFilter semantics: fields inside one filter are ANDed, values inside one field are
// ORed, filters in a list are ORed, and the result is whitelist minus blacklist.
import { BlockList, isIP } from 'node:net';
import { create, fromBinary, toBinary, type DescEnum } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import {
  DropReasonSchema,
  IPVersionSchema,
  TrafficDirectionSchema,
  VerdictSchema,
  type Endpoint,
  type Flow,
  type FlowFilter,
  type TCPFlags,
} from './gen/flow/flow_pb.js';
import {
  FlowFilterExtensionSchema,
  MechanismSchema,
  type FlowFilterExtension,
} from './gen/wirescope/v1/wirescope_pb.js';
import { encryptionFields } from './encryption.js';
import { parseLabel, parseSelector, selectorMatches } from './labels.js';

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

export type FlowPredicate = (flow: Flow) => boolean;

const tcpFlagNames = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

const protocols = new Set(['tcp', 'udp', 'icmpv4', 'icmpv6', 'sctp', 'icmp', 'http', 'dns', 'kafka']);

function checkEnum(field: string, desc: DescEnum, values: number[]): void {
  for (const v of values) {
    if (!desc.values.some((d) => d.number === v)) {
      throw new FilterError(
        field,
        `unknown value ${v}; accepted: ${desc.values.map((d) => d.name).join(', ')}`,
      );
    }
  }
}

function compileIps(field: string, values: string[]): ((ip: string) => boolean) | undefined {
  if (values.length === 0) return undefined;
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

function splitNamespaced(field: string, raw: string): { namespace: string; prefix: string } {
  const slash = raw.indexOf('/');
  if (slash <= 0) throw new FilterError(field, `"${raw}" must be "namespace/[name-prefix]" with a namespace`);
  return { namespace: raw.slice(0, slash), prefix: raw.slice(slash + 1) };
}

function compileNamespaced(
  field: string,
  values: string[],
  pick: (flow: Flow) => { namespace: string; name: string } | undefined,
): FlowPredicate | undefined {
  if (values.length === 0) return undefined;
  const parsed = values.map((v) => splitNamespaced(field, v));
  return (flow) => {
    const ep = pick(flow);
    if (!ep || (ep.name === '' && ep.namespace === '')) return false;
    return parsed.some((p) => p.namespace === ep.namespace && ep.name.startsWith(p.prefix));
  };
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

function compileSelectors(field: string, values: string[]) {
  return values.map((v) => {
    try {
      return parseSelector(v);
    } catch (err) {
      throw new FilterError(field, (err as Error).message);
    }
  });
}

function endpointLabels(ep: Endpoint | undefined) {
  return (ep?.labels ?? []).map(parseLabel);
}

function ports(flow: Flow): [number, number] | undefined {
  const p = flow.l4?.protocol;
  if (!p) return undefined;
  if (p.case === 'TCP' || p.case === 'UDP' || p.case === 'SCTP')
    return [p.value.sourcePort, p.value.destinationPort];
  return undefined;
}

function compilePorts(field: string, values: string[], which: 0 | 1): FlowPredicate | undefined {
  if (values.length === 0) return undefined;
  const wanted = values.map((v) => {
    if (!/^\d+$/.test(v) || Number(v) > 65535)
      throw new FilterError(field, `"${v}" is not a port number (accepted: 0-65535)`);
    return Number(v);
  });
  return (flow) => {
    const p = ports(flow);
    return p !== undefined && wanted.includes(p[which]);
  };
}

function flowHasFlags(flow: Flow, want: TCPFlags): boolean {
  const p = flow.l4?.protocol;
  if (p?.case !== 'TCP' || !p.value.flags) return false;
  const have = p.value.flags;
  return tcpFlagNames.every((name) => !want[name] || have[name]);
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

function compileStatusCodes(field: string, values: string[]): FlowPredicate | undefined {
  if (values.length === 0) return undefined;
  const checks = values.map((v) => {
    const m = /^(?:([1-5]\d\d)|([1-5]\d?)\+)$/.exec(v);
    if (!m)
      throw new FilterError(field, `"${v}" is not a status code or prefix (accepted e.g. 404, 4+, 40+)`);
    const exact = m[1];
    const prefix = m[2] ?? '';
    return exact !== undefined
      ? (code: number) => String(code) === exact
      : (code: number) => String(code).startsWith(prefix);
  });
  return (flow) => {
    const r = flow.l7?.record;
    if (r?.case !== 'http') return false;
    return checks.some((c) => c(r.value.code));
  };
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

/** --peer and --mechanism: Encryption.peer_node and .mechanism, scanned once per flow. */
function compileExtension(ext: FlowFilterExtension, field: string, add: (p: FlowPredicate) => void): void {
  if (ext.peerNode.length) {
    const encoder = new TextEncoder();
    const wanted = ext.peerNode.map((name) => {
      if (name === '') throw new FilterError(`${field}.peer_node`, 'empty node name');
      return encoder.encode(name);
    });
    // compares the UTF-8 bytes in place: no string per flow
    add((flow) => {
      const enc = encryptionFields(flow);
      const len = enc.peerEnd - enc.peerStart;
      if (len === 0) return false;
      for (const name of wanted) {
        if (name.length !== len) continue;
        let i = 0;
        while (i < len && name[i] === enc.bytes[enc.peerStart + i]) i++;
        if (i === len) return true;
      }
      return false;
    });
  }
  if (ext.mechanism.length) {
    checkEnum(`${field}.mechanism`, MechanismSchema, ext.mechanism);
    const wanted = new Set<number>(ext.mechanism);
    add((flow) => wanted.has(encryptionFields(flow).mechanism));
  }
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

/** Compiles one FlowFilter into a predicate; every field that is set must match. */
export function compileFilter(filter: FlowFilter, path = 'filter'): FlowPredicate {
  const unsupported = describeUnknownFields(filter.$unknown, unsupportedFilterFields);
  if (unsupported) throw new FilterError(path, `not supported by Wirescope: ${unsupported}`);
  const preds: FlowPredicate[] = [];
  const add = (p: FlowPredicate | undefined) => {
    if (p) preds.push(p);
  };
  const f = `${path}.`;

  if (filter.uuid.length) {
    const set = new Set(filter.uuid);
    add((flow) => set.has(flow.uuid));
  }
  const srcIp = compileIps(`${f}source_ip`, filter.sourceIp);
  if (srcIp) add((flow) => srcIp(flow.IP?.source ?? ''));
  const dstIp = compileIps(`${f}destination_ip`, filter.destinationIp);
  if (dstIp) add((flow) => dstIp(flow.IP?.destination ?? ''));

  const podOf = (ep: Endpoint | undefined) =>
    ep ? { namespace: ep.namespace, name: ep.podName } : undefined;
  add(compileNamespaced(`${f}source_pod`, filter.sourcePod, (flow) => podOf(flow.source)));
  add(compileNamespaced(`${f}destination_pod`, filter.destinationPod, (flow) => podOf(flow.destination)));
  add(
    compileNamespaced(`${f}source_service`, filter.sourceService, (flow) =>
      flow.sourceService
        ? { namespace: flow.sourceService.namespace, name: flow.sourceService.name }
        : undefined,
    ),
  );
  add(
    compileNamespaced(`${f}destination_service`, filter.destinationService, (flow) =>
      flow.destinationService
        ? { namespace: flow.destinationService.namespace, name: flow.destinationService.name }
        : undefined,
    ),
  );

  if (filter.sourceFqdn.length) {
    const res = filter.sourceFqdn.map((p) => globToRegExp(`${f}source_fqdn`, p, true));
    add((flow) => flow.sourceNames.some((n) => res.some((r) => r.test(n.replace(/\.$/, '')))));
  }
  if (filter.destinationFqdn.length) {
    const res = filter.destinationFqdn.map((p) => globToRegExp(`${f}destination_fqdn`, p, true));
    add((flow) => flow.destinationNames.some((n) => res.some((r) => r.test(n.replace(/\.$/, '')))));
  }

  if (filter.sourceLabel.length) {
    const sels = compileSelectors(`${f}source_label`, filter.sourceLabel);
    add((flow) => {
      const labels = endpointLabels(flow.source);
      return sels.some((s) => selectorMatches(s, labels));
    });
  }
  if (filter.destinationLabel.length) {
    const sels = compileSelectors(`${f}destination_label`, filter.destinationLabel);
    add((flow) => {
      const labels = endpointLabels(flow.destination);
      return sels.some((s) => selectorMatches(s, labels));
    });
  }
  if (filter.nodeLabels.length) {
    const sels = compileSelectors(`${f}node_labels`, filter.nodeLabels);
    add((flow) => {
      const labels = flow.nodeLabels.map(parseLabel);
      return sels.some((s) => selectorMatches(s, labels));
    });
  }

  const workloadMatch = (
    field: string,
    wanted: FlowFilter['sourceWorkload'],
    pick: (flow: Flow) => Endpoint | undefined,
  ) => {
    if (wanted.length === 0) return undefined;
    for (const w of wanted)
      if (!w.name && !w.kind) throw new FilterError(field, 'a workload needs a name or a kind');
    return (flow: Flow) =>
      (pick(flow)?.workloads ?? []).some((have) =>
        wanted.some((w) => (!w.name || w.name === have.name) && (!w.kind || w.kind === have.kind)),
      );
  };
  add(workloadMatch(`${f}source_workload`, filter.sourceWorkload, (flow) => flow.source));
  add(workloadMatch(`${f}destination_workload`, filter.destinationWorkload, (flow) => flow.destination));

  if (filter.trafficDirection.length) {
    checkEnum(`${f}traffic_direction`, TrafficDirectionSchema, filter.trafficDirection);
    const set = new Set<number>(filter.trafficDirection);
    add((flow) => set.has(flow.trafficDirection));
  }
  if (filter.verdict.length) {
    checkEnum(`${f}verdict`, VerdictSchema, filter.verdict);
    const set = new Set<number>(filter.verdict);
    add((flow) => set.has(flow.verdict));
  }
  if (filter.dropReasonDesc.length) {
    checkEnum(`${f}drop_reason_desc`, DropReasonSchema, filter.dropReasonDesc);
    const set = new Set<number>(filter.dropReasonDesc);
    add((flow) => set.has(flow.dropReasonDesc));
  }
  if (filter.ipVersion.length) {
    checkEnum(`${f}ip_version`, IPVersionSchema, filter.ipVersion);
    const set = new Set<number>(filter.ipVersion);
    add((flow) => set.has(flow.IP?.ipVersion ?? 0));
  }
  if (filter.interface.length) {
    const wanted = filter.interface;
    for (const w of wanted)
      if (!w.name && !w.index)
        throw new FilterError(`${f}interface`, 'an interface needs a name or an index');
    add((flow) => {
      const i = flow.interface;
      return !!i && wanted.some((w) => (!w.name || w.name === i.name) && (!w.index || w.index === i.index));
    });
  }
  if (filter.eventType.length) {
    const wanted = filter.eventType;
    add((flow) => {
      const et = flow.eventType;
      return !!et && wanted.some((w) => w.type === et.type && (!w.matchSubType || w.subType === et.subType));
    });
  }
  add(compileStatusCodes(`${f}http_status_code`, filter.httpStatusCode));
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
    add((flow) => wanted.some((p) => matchesProtocol(flow, p)));
  }
  add(compilePorts(`${f}source_port`, filter.sourcePort, 0));
  add(compilePorts(`${f}destination_port`, filter.destinationPort, 1));
  if (filter.reply.length) {
    const wanted = filter.reply;
    add((flow) => flow.isReply !== undefined && wanted.includes(flow.isReply));
  }
  if (filter.dnsQuery.length) {
    const res = compileRegexps(`${f}dns_query`, filter.dnsQuery);
    add((flow) => {
      const r = flow.l7?.record;
      return r?.case === 'dns' && res.some((re) => re.test(r.value.query));
    });
  }
  if (filter.sourceIdentity.length) {
    const set = new Set(filter.sourceIdentity);
    add((flow) => set.has(flow.source?.identity ?? 0));
  }
  if (filter.destinationIdentity.length) {
    const set = new Set(filter.destinationIdentity);
    add((flow) => set.has(flow.destination?.identity ?? 0));
  }
  if (filter.httpMethod.length) {
    const wanted = filter.httpMethod.map((m) => m.toUpperCase());
    add((flow) => {
      const r = flow.l7?.record;
      return r?.case === 'http' && wanted.includes(r.value.method.toUpperCase());
    });
  }
  if (filter.httpPath.length) {
    const res = compileRegexps(`${f}http_path`, filter.httpPath);
    add((flow) => {
      const r = flow.l7?.record;
      if (r?.case !== 'http') return false;
      let path = r.value.url;
      try {
        path = new URL(r.value.url, 'http://x').pathname;
      } catch {
        // keep the raw url
      }
      return res.some((re) => re.test(path));
    });
  }
  if (filter.tcpFlags.length) {
    const wanted = filter.tcpFlags;
    for (const w of wanted) {
      if (!tcpFlagNames.some((n) => w[n]))
        throw new FilterError(
          `${f}tcp_flags`,
          `set at least one flag (accepted: ${tcpFlagNames.join(', ')})`,
        );
    }
    add((flow) => wanted.some((w) => flowHasFlags(flow, w)));
  }
  if (filter.nodeName.length) {
    const res = filter.nodeName.map((p) => globToRegExp(`${f}node_name`, p, false));
    add((flow) => res.some((r) => r.test(flow.nodeName)));
  }
  if (filter.traceId.length) {
    // Wirescope carries no trace context, so a trace_id filter selects nothing.
    add(() => false);
  }
  if (filter.encrypted.length) {
    const wanted = filter.encrypted;
    add((flow) => wanted.includes(flow.IP?.encrypted ?? false));
  }

  const ext = unpackExtension(filter, `${f}extensions`);
  if (ext) compileExtension(ext, `${f}extensions`, add);

  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (flow) => {
    for (const p of preds) if (!p(flow)) return false;
    return true;
  };
}

/** Whitelist (any) minus blacklist (any); an empty whitelist admits everything. */
export function compileFilters(whitelist: FlowFilter[], blacklist: FlowFilter[]): FlowPredicate {
  const allow = whitelist.map((flt, i) => compileFilter(flt, `whitelist[${i}]`));
  const deny = blacklist.map((flt, i) => compileFilter(flt, `blacklist[${i}]`));
  if (allow.length === 0 && deny.length === 0) return () => true;
  return (flow) => {
    if (allow.length > 0 && !allow.some((p) => p(flow))) return false;
    return !deny.some((p) => p(flow));
  };
}
