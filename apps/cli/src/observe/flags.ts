// `wirescope observe` flags, Hubble's semantics: filter flags accumulate into one filter (two,
// ORed, for flags that match either direction, like --pod); --not sends the next filter flag to
// the blacklist; --last/--first/--all/--follow/--since/--until shape the request.
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  DropReasonSchema,
  EventTypeFilterSchema,
  FlowFilterExtensionSchema,
  FlowFilterSchema,
  NetworkInterfaceSchema,
  TCPFlagsSchema,
  WorkloadSchema,
  GetFlowsRequestSchema,
  TrafficDirectionSchema,
  VerdictSchema,
  enumNames,
  enumValueByName,
  eventTypeNames,
  mechanismNames,
  outputFormats,
  packFilterExtension,
  traceObservationPointNames,
  type FlowFilter,
  type FlowFilterExtension,
  type GetFlowsRequest,
  type OutputFormat,
} from '@wirescope/flow';
import { UsageError } from '../command.js';
import {
  connectBoolFlags,
  connectFlags,
  connectOptions,
  parseDuration,
  type ConnectOptions,
} from './connect.js';

type FilterInit = Omit<FlowFilter, '$typeName' | '$unknown' | 'extensions'>;
type Side = 'source' | 'destination';

/** Accumulates filter flags the way hubble's filter tracker does. */
class FilterTracker {
  left: FilterInit = create(FlowFilterSchema);
  right: FilterInit = create(FlowFilterSchema);
  /** Wirescope's own fields of each filter (--peer, --mechanism), packed into its extensions. */
  leftExtension: FlowFilterExtension = create(FlowFilterExtensionSchema);
  rightExtension: FlowFilterExtension = create(FlowFilterExtensionSchema);
  twoSided = false;
  used = false;

  both(apply: (f: FilterInit) => void): void {
    apply(this.left);
    apply(this.right);
    this.used = true;
  }

  /** A Wirescope filter field, ANDed into every filter (served by Wirescope servers only). */
  bothExtension(apply: (e: FlowFilterExtension) => void): void {
    apply(this.leftExtension);
    apply(this.rightExtension);
    this.used = true;
  }

  /** Source side in the left filter, destination side in the right one: either direction matches. */
  either(apply: (f: FilterInit, side: Side) => void): void {
    apply(this.left, 'source');
    apply(this.right, 'destination');
    this.twoSided = true;
    this.used = true;
  }

  result(): FlowFilter[] {
    if (!this.used) return [];
    const build = (f: FilterInit, ext: FlowFilterExtension) =>
      create(FlowFilterSchema, { ...f, extensions: packFilterExtension(ext) });
    const l = build(this.left, this.leftExtension);
    return this.twoSided ? [l, build(this.right, this.rightExtension)] : [l];
  }
}

export interface ObserveOptions {
  request: GetFlowsRequest;
  format: OutputFormat;
  nodeName: boolean;
  color: 'auto' | 'always' | 'never';
  /** hubble --debug: connected-node events too (always on stderr). */
  debug: boolean;
  connect: ConnectOptions;
}

const valueFlags = new Set([
  ...connectFlags,
  '--last',
  '--first',
  '--since',
  '--until',
  '--output',
  '-o',
  '--color',
  '--namespace',
  '-n',
  '--pod',
  '--from-pod',
  '--to-pod',
  '--from-namespace',
  '--to-namespace',
  '--ip',
  '--from-ip',
  '--to-ip',
  '--label',
  '-l',
  '--from-label',
  '--to-label',
  '--port',
  '--from-port',
  '--to-port',
  '--protocol',
  '--verdict',
  '--type',
  '-t',
  '--node-name',
  '--drop-reason-desc',
  '--traffic-direction',
  '--identity',
  '--from-identity',
  '--to-identity',
  '--http-status',
  '--http-method',
  '--http-path',
  '--fqdn',
  '--from-fqdn',
  '--to-fqdn',
  '--tcp-flags',
  '--ip-version',
  '--interface',
  '--uuid',
  '--workload',
  '--from-workload',
  '--to-workload',
  '--mechanism',
  '--peer',
  '--field-mask',
]);
const boolFlags = new Set([
  ...connectBoolFlags,
  '--all',
  '--follow',
  '-f',
  '--not',
  '--print-node-name',
  '--debug',
  '-D',
  '--encrypted',
  '--unencrypted',
  '--reply',
  '--help',
  '-h',
]);

export const observeUsage = `usage: wirescope observe [flags]
  selection: --last N | --first N | --all, --follow/-f, --since T, --until T (T: 5m, 1h30m or RFC3339)
  filters (repeat to OR values; --not negates the next filter flag):
    --namespace/-n NS, --pod [NS/]POD, --from-pod, --to-pod, --from-namespace, --to-namespace,
    --ip IP|CIDR, --from-ip, --to-ip, --label/-l SELECTOR, --from-label, --to-label,
    --port N, --from-port, --to-port, --protocol tcp|udp|icmpv4|icmpv6|sctp|http|dns,
    --verdict NAME, --type drop|trace[:POINT]|policy-verdict|l7, --node-name GLOB,
    --drop-reason-desc NAME, --traffic-direction ingress|egress, --identity N, --from/--to-identity,
    --http-status, --http-method, --http-path, --fqdn, --tcp-flags SYN,ACK, --ip-version v4|v6,
    --interface NAME, --uuid, --workload NAME, --reply,
    --encrypted, --unencrypted, --mechanism wireguard|none, --peer NODE
  output: -o compact|json|jsonpb|dict|table, --print-node-name, --color auto|always|never,
    --debug/-D (node status on stderr includes connected nodes, not only unavailable/error/gone)
  server: --server host:port|unix:///path (default localhost:4245), --tls, --tls-ca-cert-files,
    --tls-client-cert-file, --tls-client-key-file, --tls-server-name, --timeout 5s`;

export interface RawFlag {
  name: string;
  value: string | true;
}

/** Splits argv into flags in order ("--x v", "--x=v", "-o v"); unknown flags are usage errors. */
export function tokenize(args: string[], values: Set<string>, bools: Set<string>): RawFlag[] {
  const out: RawFlag[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (values.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      out.push({ name, value });
    } else if (bools.has(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      out.push({ name, value: true });
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown flag ${name} (see wirescope ${'observe'} --help)`);
    } else {
      throw new UsageError(`unexpected argument "${arg}": observe takes only flags (see --help)`);
    }
  }
  return out;
}

/**
 * Refuses a single-valued flag given more than once (each group is one flag under its names):
 * keeping the last one silently would run with a value the user may not have meant.
 */
export function refuseRepeats(flags: readonly RawFlag[], groups: readonly (readonly string[])[]): void {
  for (const names of groups) {
    const given = flags.filter((f) => names.includes(f.name));
    if (given.length > 1)
      throw new UsageError(
        `${names.join('/')} given ${given.length} times (${given.map((f) => `"${String(f.value)}"`).join(', ')}); it takes one value`,
      );
  }
}

/** Connection flags with a value: one server, one timeout, one set of TLS files per command. */
export const singleConnectFlags = connectFlags.map((f) => [f]);

/** Filter flags are repeatable (values OR, as in hubble); these shape the request or output once. */
const singleObserveFlags = [
  ...singleConnectFlags,
  ['--last'],
  ['--first'],
  ['--since'],
  ['--until'],
  ['--output', '-o'],
  ['--color'],
];

function count(flag: string, v: string): bigint {
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} "${v}" is not a number of flows`);
  return BigInt(v);
}

function enumValue(flag: string, desc: Parameters<typeof enumValueByName>[0], v: string): number {
  const n = enumValueByName(desc, v);
  if (n === undefined || (n === 0 && !/UNKNOWN/i.test(v))) {
    throw new UsageError(
      `${flag} "${v}" is unknown; accepted: ${enumNames(desc)
        .filter((x) => !/UNKNOWN/.test(x))
        .join(', ')}`,
    );
  }
  return n;
}

/** Relative ("5m" = five minutes ago) or absolute RFC3339 time. */
export function parseTime(flag: string, v: string, now = Date.now()): number {
  if (/^\d/.test(v) && !/^\d{4}-\d{2}-\d{2}/.test(v)) return now - parseDuration(v, flag);
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(ms)) {
    throw new UsageError(
      `${flag} "${v}" is not a relative time (5m, 1h30m) or RFC3339 (2026-11-21T10:00:00Z)`,
    );
  }
  return ms;
}

function podValue(v: string, namespace: string | undefined): string {
  return v.includes('/') ? v : `${namespace ?? 'default'}/${v}`;
}

const pointByName = new Map(Object.entries(traceObservationPointNames).map(([k, v]) => [v, Number(k)]));

function tcpFlags(v: string) {
  const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'];
  const flags: Record<string, boolean> = {};
  for (const raw of v.split(',')) {
    const f = raw.trim().toUpperCase();
    if (!names.includes(f))
      throw new UsageError(`--tcp-flags "${raw}" is unknown; accepted: ${names.join(', ')}`);
    flags[f] = true;
  }
  return flags;
}

export function parseObserveArgs(args: string[], now = Date.now()): ObserveOptions {
  const flags = tokenize(args, valueFlags, boolFlags);
  if (flags.some((f) => f.name === '--help' || f.name === '-h')) throw new UsageError(observeUsage);
  refuseRepeats(flags, singleObserveFlags);
  const conn = new Map<string, string | true>();
  const allow = new FilterTracker();
  const deny = new FilterTracker();
  let negateNext = false;
  let last: bigint | undefined;
  let first: bigint | undefined;
  let all = false;
  let follow = false;
  let since: number | undefined;
  let until: number | undefined;
  let format: OutputFormat = 'compact';
  let color: ObserveOptions['color'] = 'auto';
  let nodeName = false;
  let debug = false;
  const fieldMask: string[] = [];
  const namespace = flags.find((f) => f.name === '--namespace' || f.name === '-n')?.value as
    string | undefined;
  const podFlagsUsed = flags.some((f) => ['--pod', '--from-pod', '--to-pod'].includes(f.name));

  for (const { name, value } of flags) {
    const v = value as string;
    const tracker = negateNext ? deny : allow;
    const isFilter = ![
      '--last',
      '--first',
      '--all',
      '--follow',
      '-f',
      '--since',
      '--until',
      '--output',
      '-o',
      '--color',
      '--print-node-name',
      '--debug',
      '-D',
      '--not',
      '--field-mask',
      ...connectFlags,
      ...connectBoolFlags,
    ].includes(name);
    switch (name) {
      case '--server':
      case '--tls-ca-cert-files':
      case '--tls-client-cert-file':
      case '--tls-client-key-file':
      case '--tls-server-name':
      case '--timeout':
      case '--tls':
        conn.set(name, value);
        break;
      case '--last':
        last = count(name, v);
        break;
      case '--first':
        first = count(name, v);
        break;
      case '--all':
        all = true;
        break;
      case '--follow':
      case '-f':
        follow = true;
        break;
      case '--since':
        since = parseTime(name, v, now);
        break;
      case '--until':
        until = parseTime(name, v, now);
        break;
      case '--output':
      case '-o':
        if (!(outputFormats as readonly string[]).includes(v))
          throw new UsageError(`-o "${v}" is unknown; accepted: ${outputFormats.join(', ')}`);
        format = v as OutputFormat;
        break;
      case '--color':
        if (!['auto', 'always', 'never'].includes(v))
          throw new UsageError(`--color "${v}" is unknown; accepted: auto, always, never`);
        color = v as ObserveOptions['color'];
        break;
      case '--print-node-name':
        nodeName = true;
        break;
      case '--debug':
      case '-D':
        debug = true;
        break;
      case '--field-mask':
        fieldMask.push(
          ...v
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean),
        );
        break;
      case '--not':
        if (negateNext) throw new UsageError('--not --not: --not applies to the next filter flag');
        negateNext = true;
        continue;
      case '--namespace':
      case '-n':
        // with pod flags the namespace qualifies them; alone it selects flows to or from it
        if (!podFlagsUsed)
          tracker.either((f, side) => (side === 'source' ? f.sourcePod : f.destinationPod).push(`${v}/`));
        break;
      case '--pod':
        tracker.either((f, side) =>
          (side === 'source' ? f.sourcePod : f.destinationPod).push(podValue(v, namespace)),
        );
        break;
      case '--from-pod':
        tracker.both((f) => f.sourcePod.push(podValue(v, namespace)));
        break;
      case '--to-pod':
        tracker.both((f) => f.destinationPod.push(podValue(v, namespace)));
        break;
      case '--from-namespace':
        tracker.both((f) => f.sourcePod.push(`${v}/`));
        break;
      case '--to-namespace':
        tracker.both((f) => f.destinationPod.push(`${v}/`));
        break;
      case '--ip':
        tracker.either((f, side) => (side === 'source' ? f.sourceIp : f.destinationIp).push(v));
        break;
      case '--from-ip':
        tracker.both((f) => f.sourceIp.push(v));
        break;
      case '--to-ip':
        tracker.both((f) => f.destinationIp.push(v));
        break;
      case '--label':
      case '-l':
        tracker.either((f, side) => (side === 'source' ? f.sourceLabel : f.destinationLabel).push(v));
        break;
      case '--from-label':
        tracker.both((f) => f.sourceLabel.push(v));
        break;
      case '--to-label':
        tracker.both((f) => f.destinationLabel.push(v));
        break;
      case '--port':
        tracker.either((f, side) => (side === 'source' ? f.sourcePort : f.destinationPort).push(v));
        break;
      case '--from-port':
        tracker.both((f) => f.sourcePort.push(v));
        break;
      case '--to-port':
        tracker.both((f) => f.destinationPort.push(v));
        break;
      case '--identity':
      case '--from-identity':
      case '--to-identity': {
        if (!/^\d+$/.test(v)) throw new UsageError(`${name} "${v}" is not a numeric identity`);
        const id = Number(v);
        if (name === '--identity')
          tracker.either((f, side) =>
            (side === 'source' ? f.sourceIdentity : f.destinationIdentity).push(id),
          );
        else
          tracker.both((f) =>
            (name === '--from-identity' ? f.sourceIdentity : f.destinationIdentity).push(id),
          );
        break;
      }
      case '--fqdn':
        tracker.either((f, side) => (side === 'source' ? f.sourceFqdn : f.destinationFqdn).push(v));
        break;
      case '--from-fqdn':
        tracker.both((f) => f.sourceFqdn.push(v));
        break;
      case '--to-fqdn':
        tracker.both((f) => f.destinationFqdn.push(v));
        break;
      case '--workload':
        tracker.either((f, side) =>
          (side === 'source' ? f.sourceWorkload : f.destinationWorkload).push(
            create(WorkloadSchema, { name: v }),
          ),
        );
        break;
      case '--from-workload':
        tracker.both((f) => f.sourceWorkload.push(create(WorkloadSchema, { name: v })));
        break;
      case '--to-workload':
        tracker.both((f) => f.destinationWorkload.push(create(WorkloadSchema, { name: v })));
        break;
      case '--protocol': {
        const p = v.toLowerCase();
        const accepted = ['tcp', 'udp', 'icmpv4', 'icmpv6', 'icmp', 'sctp', 'http', 'dns'];
        if (!accepted.includes(p))
          throw new UsageError(`--protocol "${v}" is unknown; accepted: ${accepted.join(', ')}`);
        tracker.both((f) => f.protocol.push(p));
        break;
      }
      case '--verdict': {
        const n = enumValue(name, VerdictSchema, v);
        tracker.both((f) => f.verdict.push(n));
        break;
      }
      case '--drop-reason-desc': {
        const n = enumValue(name, DropReasonSchema, v);
        tracker.both((f) => f.dropReasonDesc.push(n));
        break;
      }
      case '--traffic-direction': {
        const n = enumValue(name, TrafficDirectionSchema, v);
        tracker.both((f) => f.trafficDirection.push(n));
        break;
      }
      case '--type':
      case '-t': {
        const [typeName, sub] = v.split(':');
        const type = eventTypeNames[typeName!];
        if (type === undefined)
          throw new UsageError(
            `--type "${v}" is unknown; accepted: ${Object.keys(eventTypeNames).join(', ')} (trace:POINT, drop:REASON-NUMBER)`,
          );
        let subType: number | undefined;
        if (sub !== undefined) {
          subType = type === 4 ? pointByName.get(sub) : /^\d+$/.test(sub) ? Number(sub) : undefined;
          if (subType === undefined)
            throw new UsageError(
              `--type "${v}": unknown sub-type "${sub}"; accepted for trace: ${[...pointByName.keys()].join(', ')}`,
            );
        }
        tracker.both((f) =>
          f.eventType.push(
            create(EventTypeFilterSchema, {
              type,
              matchSubType: subType !== undefined,
              subType: subType ?? 0,
            }),
          ),
        );
        break;
      }
      case '--node-name':
        tracker.both((f) => f.nodeName.push(v));
        break;
      case '--http-status':
        tracker.both((f) => f.httpStatusCode.push(v));
        break;
      case '--http-method':
        tracker.both((f) => f.httpMethod.push(v));
        break;
      case '--http-path':
        tracker.both((f) => f.httpPath.push(v));
        break;
      case '--tcp-flags': {
        const fl = tcpFlags(v);
        tracker.both((f) => f.tcpFlags.push(create(TCPFlagsSchema, fl)));
        break;
      }
      case '--ip-version': {
        const m = { v4: 1, ipv4: 1, '4': 1, v6: 2, ipv6: 2, '6': 2 }[v.toLowerCase()];
        if (!m) throw new UsageError(`--ip-version "${v}" is unknown; accepted: v4, v6`);
        tracker.both((f) => f.ipVersion.push(m));
        break;
      }
      case '--interface':
        tracker.both((f) => f.interface.push(create(NetworkInterfaceSchema, { name: v })));
        break;
      case '--uuid':
        tracker.both((f) => f.uuid.push(v));
        break;
      case '--reply':
        tracker.both((f) => f.reply.push(true));
        break;
      case '--encrypted':
      case '--unencrypted':
        tracker.both((f) => f.encrypted.push(name === '--encrypted'));
        break;
      case '--mechanism': {
        const m = mechanismNames[v.toLowerCase()];
        if (m === undefined)
          throw new UsageError(
            `--mechanism "${v}" is unknown; accepted: ${Object.keys(mechanismNames).join(', ')}`,
          );
        tracker.bothExtension((e) => e.mechanism.push(m));
        break;
      }
      case '--peer':
        if (v === '') throw new UsageError('--peer needs a node name');
        tracker.bothExtension((e) => e.peerNode.push(v));
        break;
      default:
        throw new UsageError(`unknown flag ${name}`);
    }
    if (negateNext && isFilter) negateNext = false;
  }
  if (negateNext)
    throw new UsageError('--not must be followed by a filter flag (e.g. --not --verdict DROPPED)');
  if (follow && first !== undefined)
    throw new UsageError('--first cannot be combined with --follow; use --last N --follow');
  if ([last !== undefined, first !== undefined, all].filter(Boolean).length > 1)
    throw new UsageError('give only one of --last, --first, --all');
  if (since !== undefined && until !== undefined && since > until)
    throw new UsageError('--since is after --until');
  // hubble's default: the last 20 flows, unless following or bounded by time
  let number = 0n;
  if (first !== undefined) number = first;
  else if (last !== undefined) number = last;
  else if (!all && !follow && since === undefined && until === undefined) number = 20n;
  const request = create(GetFlowsRequestSchema, {
    number,
    first: first !== undefined,
    follow,
    whitelist: allow.result(),
    blacklist: deny.result(),
    since: since !== undefined ? timestampFromMs(since) : undefined,
    until: until !== undefined ? timestampFromMs(until) : undefined,
    fieldMask: fieldMask.length ? { paths: fieldMask } : undefined,
  });
  return { request, format, nodeName, color, debug, connect: connectOptions(conn) };
}
