/**
 * Hubble's flow metrics (Cilium pkg/hubble/metrics/*) with Cilium's names, types, HELP, labels
 * and label values, fed one decoded Flow at a time.
 */
import { Counter, type Registry } from 'prom-client';
import { DropReason, Verdict, type Flow, type FlowRecord } from '@wirescope/flow';
import { ContextLabels } from './context.js';
import {
  flowProtocol,
  flowTypeLabels,
  icmpTypeName,
  ipFamily,
  l4Protocol,
  verdictName,
} from './flow-labels.js';
import type { HubbleMetricSpec, HubblePlugin } from './hubble-flag.js';

type Labels = Record<string, string>;

interface PluginShape {
  name: string;
  help: string;
  /** own labels before (drop) or after (all others) the context labels, as Cilium orders them */
  own: (spec: HubbleMetricSpec) => string[];
  contextFirst?: boolean;
  /** zero or more label sets to increment for one flow */
  label: (flow: Flow, spec: HubbleMetricSpec) => Labels[];
}

const FORWARDED_OR_REDIRECTED = new Set([Verdict.FORWARDED, Verdict.REDIRECTED]);
const WORLD_LABELS = new Set(['reserved:world', 'reserved:world-ipv4', 'reserved:world-ipv6']);
const HOST_IDENTITY = 1;
const POLICY_MATCH_NAMES: Record<number, string> = {
  0: 'none',
  1: 'l3-only',
  2: 'l3-l4',
  3: 'l4-only',
  4: 'all',
  5: 'l3-proto',
  6: 'proto-only',
};

function destinationPort(flow: Flow): string {
  const p = flow.l4?.protocol;
  if (p?.case === 'TCP' || p?.case === 'UDP' || p?.case === 'SCTP') return String(p.value.destinationPort);
  return '0';
}

const PLUGINS: Record<HubblePlugin, PluginShape> = {
  flow: {
    name: 'hubble_flows_processed_total',
    help: 'Total number of flows processed',
    own: () => ['protocol', 'type', 'subtype', 'verdict'],
    label: (flow) => [
      { protocol: flowProtocol(flow), ...flowTypeLabels(flow), verdict: verdictName(flow.verdict) },
    ],
  },
  drop: {
    name: 'hubble_drop_total',
    help: 'Number of drops',
    own: () => ['reason', 'protocol'],
    contextFirst: true,
    label: (flow) =>
      flow.verdict === Verdict.DROPPED
        ? [
            {
              reason: DropReason[flow.dropReasonDesc] ?? String(flow.dropReasonDesc),
              protocol: flowProtocol(flow),
            },
          ]
        : [],
  },
  tcp: {
    name: 'hubble_tcp_flags_total',
    help: 'TCP flag occurrences',
    own: () => ['flag', 'family'],
    label: (flow) => {
      if (!FORWARDED_OR_REDIRECTED.has(flow.verdict) || flow.l4?.protocol.case !== 'TCP') return [];
      const flags = flow.l4.protocol.value.flags;
      if (!flags) return [];
      const family = ipFamily(flow);
      const out: Labels[] = [];
      if (flags.FIN) out.push({ flag: 'FIN', family });
      if (flags.SYN) out.push({ flag: flags.ACK ? 'SYN-ACK' : 'SYN', family });
      if (flags.RST) out.push({ flag: 'RST', family });
      return out;
    },
  },
  icmp: {
    name: 'hubble_icmp_total',
    help: 'Number of ICMP messages',
    own: () => ['family', 'type'],
    label: (flow) => {
      const p = flow.l4?.protocol;
      if (p?.case === 'ICMPv4')
        return [{ family: 'IPv4', type: icmpTypeName('IPv4', p.value.type, p.value.code) }];
      if (p?.case === 'ICMPv6')
        return [{ family: 'IPv6', type: icmpTypeName('IPv6', p.value.type, p.value.code) }];
      return [];
    },
  },
  'port-distribution': {
    name: 'hubble_port_distribution_total',
    help: 'Numbers of packets distributed by destination port',
    own: () => ['protocol', 'port'],
    label: (flow) => {
      if (!FORWARDED_OR_REDIRECTED.has(flow.verdict) || flow.isReply !== false) return [];
      const protocol = l4Protocol(flow);
      return protocol ? [{ protocol, port: destinationPort(flow) }] : [];
    },
  },
  'flows-to-world': {
    name: 'hubble_flows_to_world_total',
    help: 'Total number of flows to reserved:world',
    own: (spec) => ['protocol', 'verdict', ...(spec.flags.has('port') ? ['port'] : [])],
    label: (flow, spec) => {
      if (!flow.l4?.protocol.case || !flow.eventType) return [];
      if (!(flow.destination?.labels ?? []).some((l) => WORLD_LABELS.has(l))) return [];
      if (flow.verdict === Verdict.DROPPED) {
        if (!spec.flags.has('any-drop') && flow.dropReasonDesc !== DropReason.POLICY_DENIED) return [];
      } else if (flow.isReply === true) return [];
      if (spec.flags.has('syn-only')) {
        const p = flow.l4.protocol;
        if (p.case !== 'TCP' || !p.value.flags?.SYN || p.value.flags.ACK || flow.isReply === true) return [];
      }
      const labels: Labels = { protocol: flowProtocol(flow), verdict: verdictName(flow.verdict) };
      if (spec.flags.has('port')) {
        const p = flow.l4.protocol;
        labels.port =
          p.case === 'TCP' || p.case === 'UDP' || p.case === 'SCTP' ? String(p.value.destinationPort) : '';
      }
      return [labels];
    },
  },
  policy: {
    name: 'hubble_policy_verdicts_total',
    help: 'Total number of Cilium network policy verdicts',
    own: () => ['direction', 'match', 'action'],
    label: (flow) => {
      const type = flow.eventType?.type;
      if (type !== 5 && type !== 129) return [];
      if (flow.source?.identity === HOST_IDENTITY) return [];
      const direction =
        flow.trafficDirection === 1
          ? 'ingress'
          : flow.trafficDirection === 2
            ? 'egress'
            : 'traffic_direction_unknown';
      const match =
        type === 129
          ? `l7/${flow.l7?.record.case ?? ''}`
          : (POLICY_MATCH_NAMES[flow.policyMatchType] ?? 'unknown');
      return [{ direction, match, action: verdictName(flow.verdict).toLowerCase() }];
    },
  },
};

/** Cilium's grace period before a deleted pod's series are removed. */
export const POD_SERIES_GRACE_MS = 60_000;

class FlowMetric {
  readonly counter: Counter;
  private readonly context: ContextLabels;
  private readonly podKeyed: { source: boolean; destination: boolean };
  /** "ns/pod" -> label sets that name it, for the deleted-pod cleanup */
  private readonly byPod = new Map<string, Map<string, Labels>>();
  /**
   * Increments since the last collection, by label values: prom-client's inc() hashes and
   * validates its labels on every call, which was most of this hook's cost per flow; the counts
   * go into the counter when it is read (its collect callback), so every scrape sees them all.
   */
  private readonly pending = new Map<string, PendingCell>();

  constructor(
    private readonly shape: PluginShape,
    private readonly spec: HubbleMetricSpec,
    registry: Registry,
  ) {
    this.context = new ContextLabels(spec.context);
    const own = shape.own(spec);
    const labelNames = shape.contextFirst
      ? [...this.context.labelNames, ...own]
      : [...own, ...this.context.labelNames];
    const pending = this.pending;
    this.counter = new Counter({
      name: shape.name,
      help: shape.help,
      labelNames,
      registers: [registry],
      // cells stay (zeroed) so that HubbleFlowMetrics' memo of them stays valid across scrapes
      collect(this: Counter) {
        for (const cell of pending.values())
          if (cell.count > 0) {
            this.inc(cell.labels, cell.count);
            cell.count = 0;
          }
      },
    });
    this.podKeyed = this.context.podKeyed();
  }

  /** Whether a context label of this metric reads the flow's IP addresses. */
  get readsIp(): boolean {
    return this.context.readsIp;
  }

  /** Counts the flow; `touched` (when given) gets every cell it incremented. */
  observe(flow: Flow, touched?: PendingCell[]): void {
    const sets = this.shape.label(flow, this.spec);
    if (sets.length === 0) return;
    for (const own of sets) {
      const labels = this.shape.contextFirst ? {} : own;
      this.context.values(flow, labels);
      if (this.shape.contextFirst) Object.assign(labels, own);
      // one metric always builds its labels in the same order: the values name the series
      const id = Object.values(labels).join('\u0000');
      let cell = this.pending.get(id);
      if (cell) cell.count++;
      else this.pending.set(id, (cell = { labels, count: 1 }));
      touched?.push(cell);
      if (this.podKeyed.source) this.index(flow.source?.namespace, flow.source?.podName, id, labels);
      if (this.podKeyed.destination)
        this.index(flow.destination?.namespace, flow.destination?.podName, id, labels);
    }
  }

  private index(namespace: string | undefined, pod: string | undefined, id: string, labels: Labels): void {
    if (!pod) return;
    const key = `${namespace ?? ''}/${pod}`;
    let sets = this.byPod.get(key);
    if (!sets) this.byPod.set(key, (sets = new Map()));
    if (!sets.has(id)) sets.set(id, { ...labels });
  }

  removePod(namespace: string, pod: string): number {
    const key = `${namespace}/${pod}`;
    const sets = this.byPod.get(key);
    if (!sets) return 0;
    this.byPod.delete(key);
    for (const id of sets.keys()) this.pending.delete(id);
    for (const labels of sets.values()) this.counter.remove(labels);
    return sets.size;
  }
}

/** Counts of one series since the last scrape. */
interface PendingCell {
  labels: Labels;
  count: number;
}

/** Distinct record facts memoized at most; past it the memo starts again (flows keep counting). */
const RECORD_MEMO_LIMIT = 20_000;

/** Ids of shared endpoints, by identity: a record's endpoints are frozen and shared by its pod's flows. */
const endpointIds = new WeakMap<object, number>();
let nextEndpointId = 1;
function endpointId(endpoint: object | undefined): number {
  if (endpoint === undefined) return 0;
  let id = endpointIds.get(endpoint);
  if (id === undefined) endpointIds.set(endpoint, (id = nextEndpointId++));
  return id;
}

/**
 * Every fact of a record that a plugin or context label reads (see PLUGINS and context.ts): two
 * records with the same key get the same label sets. The destination port is left out of replies
 * that no plugin counts by port (port-distribution counts non-replies, flows-to-world drops of
 * replies only): a reply's destination is the client's ephemeral port, one key per connection.
 */
function recordKey(r: FlowRecord, readsIp: boolean): string {
  const port = r.isReply === 1 && r.verdict !== Verdict.DROPPED ? -1 : r.destinationPort;
  const key =
    `${r.verdict},${r.dropReasonDesc},${r.l4},${r.tcpFlags},${r.icmpType},${r.icmpCode},${port},` +
    `${r.isReply},${r.eventType},${r.eventSubType},${r.trafficDirection},${r.policyMatchType},` +
    `${r.hasIP ? r.ipVersion : -1},${endpointId(r.source)},${endpointId(r.destination)}`;
  return readsIp ? `${key},${r.ipSource},${r.ipDestination}` : key;
}

/** The enabled Hubble flow metrics and hubble_lost_events_total. */
export class HubbleFlowMetrics {
  private readonly metrics: FlowMetric[];
  /**
   * Record key -> the cells its flows increment. The agent's flows repeat a few shapes (a pod pair,
   * a verdict, a flag set), and the label work per metric was the hook's cost: on a hit a record
   * costs its key and one increment per cell, and no Flow message is built for it.
   */
  private readonly recordMemo = new Map<string, PendingCell[]>();
  private readonly readsIp: boolean;
  readonly lostEvents: Counter<'source'> | undefined;
  private readonly pendingDeletes = new Set<NodeJS.Timeout>();

  constructor(specs: HubbleMetricSpec[], registry: Registry) {
    this.metrics = specs.map((spec) => new FlowMetric(PLUGINS[spec.plugin], spec, registry));
    this.readsIp = this.metrics.some((m) => m.readsIp);
    if (specs.length > 0) {
      this.lostEvents = new Counter({
        name: 'hubble_lost_events_total',
        help: 'Number of lost events',
        labelNames: ['source'],
        registers: [registry],
      });
      // both sources from the start: the first loss is an increase, not a new series
      for (const source of ['perf_event_ring_buffer', 'observer_events_queue'])
        this.lostEvents.inc({ source }, 0);
    }
  }

  observe(flow: Flow): void {
    for (const m of this.metrics) m.observe(flow);
  }

  /**
   * The live path's record: counted exactly as observe(flow()) would count it. `flow` builds the
   * record's Flow message, needed only the first time a key is seen.
   */
  observeRecord(record: FlowRecord, flow: () => Flow): void {
    const key = recordKey(record, this.readsIp);
    const cells = this.recordMemo.get(key);
    if (cells !== undefined) {
      for (let i = 0; i < cells.length; i++) cells[i]!.count++;
      return;
    }
    const touched: PendingCell[] = [];
    const message = flow();
    for (const m of this.metrics) m.observe(message, touched);
    if (this.recordMemo.size >= RECORD_MEMO_LIMIT) this.recordMemo.clear();
    this.recordMemo.set(key, touched);
  }

  /** Series naming a pod, removed once it has been gone a minute (Cilium's rule and grace). */
  podDeleted(namespace: string, pod: string, graceMs = POD_SERIES_GRACE_MS): void {
    const timer = setTimeout(() => {
      this.pendingDeletes.delete(timer);
      this.removePodNow(namespace, pod);
    }, graceMs);
    timer.unref();
    this.pendingDeletes.add(timer);
  }

  removePodNow(namespace: string, pod: string): number {
    // the memo may hold cells of the removed series: they are no longer counted
    this.recordMemo.clear();
    return this.metrics.reduce((n, m) => n + m.removePod(namespace, pod), 0);
  }

  stop(): void {
    for (const t of this.pendingDeletes) clearTimeout(t);
    this.pendingDeletes.clear();
  }
}
