// Output formats of `hubble observe`: compact (its exact line format), json, jsonpb, dict, table.
import { toJson } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import {
  FlowSchema,
  LostEventSourceSchema,
  TrafficDirection,
  TrafficDirectionSchema,
  Verdict,
  VerdictSchema,
  type Endpoint,
  type Flow,
} from './gen/flow/flow_pb.js';
import { GetFlowsResponseSchema, type GetFlowsResponse } from './gen/observer/observer_pb.js';
import { NodeState, NodeStateSchema, type NodeStatusEvent } from './gen/relay/relay_pb.js';
import { Mechanism } from './gen/wirescope/v1/wirescope_pb.js';
import { encryptionOf, mechanismName, registry } from './encryption.js';
import {
  dropReasonDescriptions,
  enumName,
  kernelDropSubType,
  reservedIdentityNames,
  traceObservationPointNames,
} from './names.js';
import { ciliumSummary } from './summary.js';

export const outputFormats = ['compact', 'json', 'jsonpb', 'dict', 'table'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export interface PrinterOptions {
  format: OutputFormat;
  /** ANSI colors (hubble colors when writing to a terminal). */
  color?: boolean;
  /** Adds the node name, like hubble's --print-node-name. */
  nodeName?: boolean;
  /** Receives complete lines (without trailing newline). */
  out: (line: string) => void;
  /** Node status and lost-event notices go here (stderr), never into the flow stream. */
  err?: (line: string) => void;
  /** Like hubble --debug: also the informational node states (connected), not only the failures. */
  debug?: boolean;
  /** hubble's --print-policy-names: ALLOWED / DENIED policy verdicts say ` BY name (kind)`. */
  printPolicyNames?: boolean;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.StampMilli ("Jan _2 15:04:05.000") in UTC, as hubble prints it. */
export function formatTimestamp(ts: Timestamp | undefined): string {
  if (!ts) return 'N/A';
  const d = new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

function l4Ports(flow: Flow): [string, string] {
  const p = flow.l4?.protocol;
  if (p && (p.case === 'TCP' || p.case === 'UDP' || p.case === 'SCTP')) {
    return [String(p.value.sourcePort), String(p.value.destinationPort)];
  }
  return ['', ''];
}

function hostname(ip: string, port: string, ep: Endpoint | undefined, svc: string, names: string[]): string {
  let host = ip;
  if (ep?.podName) host = `${ep.namespace}/${ep.podName}`;
  else if (svc) host = svc;
  else if (names.length > 0) host = names.join(',');
  if (port === '' || port === '0') return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Source and destination as hubble names them: ns/pod[:port], else service, DNS names or IP. */
export function hostNames(flow: Flow): [string, string] {
  const [sp, dp] = l4Ports(flow);
  const svc = (s: Flow['sourceService']) => (s?.name ? `${s.namespace}/${s.name}` : '');
  return [
    hostname(flow.IP?.source ?? '', sp, flow.source, svc(flow.sourceService), flow.sourceNames),
    hostname(
      flow.IP?.destination ?? '',
      dp,
      flow.destination,
      svc(flow.destinationService),
      flow.destinationNames,
    ),
  ];
}

export function formatIdentity(identity: number): string {
  const reserved = reservedIdentityNames[identity];
  return reserved ? `(${reserved})` : `(ID:${identity})`;
}

/** cilium's api.PolicyMatchType names. */
const policyMatchNames: Record<number, string> = {
  0: 'none',
  1: 'L3-Only',
  2: 'L3-L4',
  3: 'L4-Only',
  4: 'all',
  5: 'L3-Proto',
  6: 'Proto-Only',
};

const MONITOR_POLICY_VERDICT = 5;

/**
 * hubble's getVerdict for a policy verdict: ALLOWED / DENIED / AUDITED, and with
 * --print-policy-names ` BY name (kind), …` from the direction's list (AUDITED never gets names).
 */
export function policyVerdictText(flow: Flow, printPolicyNames: boolean): string | undefined {
  if (flow.eventType?.type !== MONITOR_POLICY_VERDICT) return undefined;
  const ingress = flow.trafficDirection === TrafficDirection.INGRESS;
  let text: string;
  let names: Flow['ingressAllowedBy'] = [];
  switch (flow.verdict) {
    case Verdict.FORWARDED:
    case Verdict.REDIRECTED:
      text = 'ALLOWED';
      names = ingress ? flow.ingressAllowedBy : flow.egressAllowedBy;
      break;
    case Verdict.DROPPED:
    case Verdict.ERROR:
      text = 'DENIED';
      names = ingress ? flow.ingressDeniedBy : flow.egressDeniedBy;
      break;
    case Verdict.AUDIT:
      return 'AUDITED';
    default:
      return enumName(VerdictSchema, flow.verdict);
  }
  const listed = names.filter((p) => p.name && p.kind).map((p) => `${p.name} (${p.kind})`);
  return printPolicyNames && listed.length > 0 ? `${text} BY ${listed.join(', ')}` : text;
}

/**
 * A kernel drop's TYPE. Hubble's own printer can only show sub_type 255 as a number ("255, 0");
 * this one names the kernel's reason from the Wirescope extension.
 */
function kernelDropType(flow: Flow): string {
  const enc = encryptionOf(flow);
  if (enc?.kernelDropReason) return `kernel drop: ${enc.kernelDropReason}`;
  if (enc?.kernelDropReasonCode) return `kernel drop: reason ${enc.kernelDropReasonCode}`;
  return 'kernel drop';
}

/** Hubble's TYPE column: observation point for traces, drop reason for drops. */
export function flowType(flow: Flow): string {
  const l7 = flow.l7;
  if (l7 && l7.record.case) {
    const kind = ['UNKNOWN', 'request', 'response', 'sample'][l7.type] ?? 'UNKNOWN';
    return `${l7.record.case}-${kind}`;
  }
  const type = flow.eventType?.type ?? 0;
  const sub = flow.eventType?.subType ?? 0;
  switch (type) {
    case 4:
      return traceObservationPointNames[sub] ?? 'UNKNOWN';
    case 1:
      if (sub === kernelDropSubType) return kernelDropType(flow);
      return dropReasonDescriptions[sub] ?? `drop reason ${sub}`;
    case MONITOR_POLICY_VERDICT:
      return `policy-verdict:${policyMatchNames[flow.policyMatchType] ?? flow.policyMatchType} ${enumName(
        TrafficDirectionSchema,
        flow.trafficDirection,
      )}`;
    case 7:
      return 'trace-sock';
    default:
      return 'UNKNOWN';
  }
}

/** The SUMMARY column: the L7 record, else Cilium's L3/L4 summary (what the agent puts in Summary). */
export function flowSummary(flow: Flow): string {
  const r = flow.l7?.record;
  if (r?.case === 'http')
    return `HTTP/1.1 ${r.value.method} ${r.value.url}${r.value.code ? ` ${r.value.code}` : ''}`;
  if (r?.case === 'dns')
    return `DNS ${flow.l7?.type === 2 ? 'Answer' : 'Query'} ${r.value.query} ${r.value.qtypes.join(',')}`.trim();
  return ciliumSummary(flow) || flow.Summary || 'UNKNOWN';
}

export type EncryptionState = 'encrypted' | 'leak' | 'plain';

/** Encrypted when the datapath said so (IP.encrypted) or the extension names a mechanism. */
export function encryptionState(flow: Flow): EncryptionState {
  const enc = encryptionOf(flow);
  if (enc?.leak) return 'leak';
  if (flow.IP?.encrypted || enc?.mechanism === Mechanism.WIREGUARD) return 'encrypted';
  return 'plain';
}

function encryptionText(flow: Flow): string {
  const enc = encryptionOf(flow);
  const state = encryptionState(flow);
  if (state === 'leak') return `LEAK (plaintext${enc?.peerNode ? ` to ${enc.peerNode}` : ''})`;
  if (state === 'encrypted') {
    const mech = enc ? mechanismName(enc.mechanism) : 'yes';
    return enc?.peerNode ? `${mech} -> ${enc.peerNode}` : mech;
  }
  return 'no';
}

const ansi = {
  reset: '\x1b[0m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  blue: '\x1b[34m',
  magenta: '\x1b[35m',
  cyan: '\x1b[36m',
};

/**
 * Node states printed without --debug. hubble prints only UNAVAILABLE and ERROR; GONE is shown
 * too because a node leaving is also flows that stop coming.
 */
const failedNodeStates: ReadonlySet<NodeState> = new Set([
  NodeState.NODE_UNAVAILABLE,
  NodeState.NODE_ERROR,
  NodeState.NODE_GONE,
]);

const nodeNamesCutOff = 50;

/** hubble's joinWithCutOff: names up to about targetLength characters, then " (and N more)". */
export function joinWithCutOff(names: readonly string[], separator: string, targetLength: number): string {
  let length = 0;
  let end = names.length;
  for (let i = 0; i < names.length; i++) {
    length += names[i]!.length + separator.length;
    if (length > targetLength && i > 0) {
      end = i;
      break;
    }
  }
  const joined = names.slice(0, end).join(separator);
  const omitted = names.length - end;
  return omitted === 0 ? joined : `${joined} (and ${omitted} more)`;
}

export class FlowPrinter {
  private lines = 0;
  private rows: string[][] = [];

  constructor(private readonly opts: PrinterOptions) {}

  private paint(color: keyof typeof ansi, text: string): string {
    return this.opts.color ? `${ansi[color]}${text}${ansi.reset}` : text;
  }

  private verdictColor(verdict: string): keyof typeof ansi {
    if (verdict === 'FORWARDED' || verdict === 'REDIRECTED') return 'green';
    if (verdict === 'DROPPED' || verdict === 'ERROR') return 'red';
    if (verdict === 'AUDIT' || verdict === 'TRACED' || verdict === 'TRANSLATED') return 'yellow';
    return 'reset';
  }

  write(resp: GetFlowsResponse): void {
    const { format } = this.opts;
    const r = resp.responseTypes;
    if (format === 'jsonpb' && r.case !== 'nodeStatus') {
      this.opts.out(
        JSON.stringify(toJson(GetFlowsResponseSchema, resp, { useProtoFieldName: true, registry })),
      );
      return;
    }
    if (r.case === 'nodeStatus') {
      this.nodeStatus(resp, r.value);
      return;
    }
    if (r.case !== 'flow') {
      if (format === 'json') {
        this.opts.out(
          JSON.stringify(toJson(GetFlowsResponseSchema, resp, { useProtoFieldName: true, registry })),
        );
      } else {
        this.notice(resp);
      }
      return;
    }
    const flow = r.value;
    switch (format) {
      case 'json':
        this.opts.out(JSON.stringify(toJson(FlowSchema, flow, { useProtoFieldName: true, registry })));
        return;
      case 'compact':
        this.opts.out(this.compact(flow));
        return;
      case 'dict':
        this.dict(flow);
        return;
      case 'table':
        this.tableRow(flow);
        return;
    }
  }

  /**
   * hubble's WriteProtoNodeStatusEvent: on stderr, and without --debug only the states that mean
   * flows are missing; json (hubble's legacy JSON) prints none, jsonpb the response as JSON.
   */
  private nodeStatus(resp: GetFlowsResponse, status: NodeStatusEvent): void {
    const state = status.stateChange;
    if (!this.opts.debug && !failedNodeStates.has(state)) return;
    const err = this.opts.err;
    if (!err) return;
    const names = joinWithCutOff(status.nodeNames, ', ', nodeNamesCutOff);
    const count = status.nodeNames.length;
    switch (this.opts.format) {
      case 'json':
        return;
      case 'jsonpb':
        err(JSON.stringify(toJson(GetFlowsResponseSchema, resp, { useProtoFieldName: true, registry })));
        return;
      case 'dict':
        // the separator goes with the flows so that interleaved stdout and stderr stay readable
        if (this.lines++ > 0) this.opts.out('------------');
        err(`  TIMESTAMP: ${formatTimestamp(resp.time)}`);
        err(`      STATE: ${enumName(NodeStateSchema, state)}`);
        err(`      NODES: ${names}`);
        err(`    MESSAGE: ${status.message ? JSON.stringify(status.message) : 'N/A'}`);
        return;
    }
    const prefix = `${formatTimestamp(resp.time)}${resp.nodeName ? ` [${resp.nodeName}]` : ''}`;
    switch (state) {
      case NodeState.NODE_CONNECTED:
        err(`${prefix}: Receiving flows from ${count} nodes: ${names}`);
        return;
      case NodeState.NODE_UNAVAILABLE:
        err(`${prefix}: ${count} nodes are unavailable: ${names}`);
        return;
      case NodeState.NODE_GONE:
        err(`${prefix}: ${count} nodes removed from cluster: ${names}`);
        return;
      case NodeState.NODE_ERROR:
        err(`${prefix}: Error ${JSON.stringify(status.message)} on ${count} nodes: ${names}`);
        return;
      default:
        err(`${prefix}: unknown node status event: ${enumName(NodeStateSchema, state)} ${names}`);
    }
  }

  private notice(resp: GetFlowsResponse): void {
    const err = this.opts.err ?? this.opts.out;
    const r = resp.responseTypes;
    if (r.case === 'lostEvents') {
      err(
        `${formatTimestamp(resp.time)}${resp.nodeName ? ` [${resp.nodeName}]` : ''}: EVENTS LOST: ${enumName(
          LostEventSourceSchema,
          r.value.source,
        )} lost ${r.value.numEventsLost} events`,
      );
    }
  }

  /** `Jan  1 00:00:00.000: ns/a:1 (ID:1) -> ns/b:80 (ID:2) to-endpoint FORWARDED (TCP Flags: SYN)` */
  compact(flow: Flow): string {
    let [src, dst] = hostNames(flow);
    let srcId = formatIdentity(flow.source?.identity ?? 0);
    let dstId = formatIdentity(flow.destination?.identity ?? 0);
    let arrow = '->';
    if (flow.isReply === undefined) arrow = '<>';
    else if (flow.isReply) {
      [src, dst] = [dst, src];
      [srcId, dstId] = [dstId, srcId];
      arrow = '<-';
    }
    const verdict = enumName(VerdictSchema, flow.verdict);
    const verdictText = policyVerdictText(flow, this.opts.printPolicyNames ?? false) ?? verdict;
    const node = this.opts.nodeName ? ` [${flow.nodeName}]` : '';
    let line =
      `${formatTimestamp(flow.time)}${node}: ${this.paint('cyan', src)} ${this.paint('magenta', srcId)} ` +
      `${this.paint('blue', arrow)} ${this.paint('cyan', dst)} ${this.paint('magenta', dstId)} ` +
      `${flowType(flow)} ${this.paint(this.verdictColor(verdict), verdictText)} (${flowSummary(flow)})`;
    const state = encryptionState(flow);
    if (state === 'encrypted') line += ` ${this.paint('green', '🔒')}`;
    else if (state === 'leak') line += ` ${this.paint('red', '⚠ plaintext leak')}`;
    return line;
  }

  private dict(flow: Flow): void {
    const [src, dst] = hostNames(flow);
    if (this.lines++ > 0) this.opts.out('------------');
    const out = [`  TIMESTAMP: ${formatTimestamp(flow.time)}`];
    if (this.opts.nodeName) out.push(`       NODE: ${flow.nodeName}`);
    out.push(
      `     SOURCE: ${src}`,
      `DESTINATION: ${dst}`,
      `       TYPE: ${flowType(flow)}`,
      `    VERDICT: ${policyVerdictText(flow, this.opts.printPolicyNames ?? false) ?? enumName(VerdictSchema, flow.verdict)}`,
      `    SUMMARY: ${flowSummary(flow)}`,
      ` ENCRYPTION: ${encryptionText(flow)}`,
    );
    for (const l of out) this.opts.out(l);
  }

  private tableRow(flow: Flow): void {
    const [src, dst] = hostNames(flow);
    const row = [formatTimestamp(flow.time)];
    if (this.opts.nodeName) row.push(flow.nodeName);
    row.push(
      src,
      dst,
      flowType(flow),
      policyVerdictText(flow, this.opts.printPolicyNames ?? false) ?? enumName(VerdictSchema, flow.verdict),
      flowSummary(flow),
      encryptionText(flow),
    );
    this.rows.push(row);
  }

  /** Table output is aligned over the rows seen so far; follow mode flushes periodically. */
  flush(): void {
    if (this.opts.format !== 'table' || this.rows.length === 0) return;
    const header = ['TIMESTAMP'];
    if (this.opts.nodeName) header.push('NODE');
    header.push('SOURCE', 'DESTINATION', 'TYPE', 'VERDICT', 'SUMMARY', 'ENCRYPTION');
    const rows = this.lines === 0 ? [header, ...this.rows] : this.rows;
    const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    for (const r of rows) {
      this.opts.out(
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
          .join('')
          .trimEnd(),
      );
    }
    this.lines += rows.length;
    this.rows = [];
  }
}
