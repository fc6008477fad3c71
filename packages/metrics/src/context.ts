/**
 * Hubble's context options (Cilium pkg/hubble/metrics/api/context.go): sourceContext /
 * destinationContext (and their Ingress/Egress variants) add one `source` / `destination`
 * label; labelsContext adds named labels in a fixed order.
 */
import { TrafficDirection, type Endpoint, type Flow } from '@wirescope/flow';
import { MetricsError, MetricsErrorCode } from './errors.js';
import { trafficDirectionName } from './flow-labels.js';

export const CONTEXT_IDENTIFIERS = [
  'identity',
  'namespace',
  'pod',
  'pod-name',
  'dns',
  'ip',
  'reserved-identity',
  'workload',
  'workload-name',
  'app',
] as const;
export type ContextIdentifier = (typeof CONTEXT_IDENTIFIERS)[number];

/** The labelsContext names, in the order Cilium always emits them. */
export const LABELS_CONTEXT_NAMES = [
  'source_ip',
  'source_pod',
  'source_namespace',
  'source_workload',
  'source_workload_kind',
  'source_app',
  'destination_ip',
  'destination_pod',
  'destination_namespace',
  'destination_workload',
  'destination_workload_kind',
  'destination_app',
  'traffic_direction',
] as const;
type LabelsContextName = (typeof LABELS_CONTEXT_NAMES)[number];

const SIDE_OPTIONS = [
  'sourceContext',
  'sourceEgressContext',
  'sourceIngressContext',
  'destinationContext',
  'destinationEgressContext',
  'destinationIngressContext',
] as const;
export const CONTEXT_OPTION_NAMES: readonly string[] = [...SIDE_OPTIONS, 'labelsContext'];

type Side = 'source' | 'destination';
interface SideContext {
  base: ContextIdentifier[][];
  egress: ContextIdentifier[][];
  ingress: ContextIdentifier[][];
}

function invalid(message: string): MetricsError {
  return new MetricsError(MetricsErrorCode.INVALID_METRICS_FLAG, message);
}

/** `pod|dns,ip` -> [[pod, dns], [ip]]: alternatives joined by "|" (first non-empty wins). */
function parseSideValue(option: string, values: string[]): ContextIdentifier[][] {
  return values.map((value) =>
    value.split('|').map((id) => {
      if (!(CONTEXT_IDENTIFIERS as readonly string[]).includes(id)) {
        throw invalid(
          `invalid ${option} value: ${id}; accepted: ${CONTEXT_IDENTIFIERS.join(', ')} (alternatives joined by "|")`,
        );
      }
      return id as ContextIdentifier;
    }),
  );
}

const RESERVED_KUBE_APISERVER = 'reserved:kube-apiserver';
const APP_LABELS = ['k8s:app.kubernetes.io/name', 'k8s:k8s-app', 'k8s:app'];

function labelValue(labels: string[], key: string): string {
  const prefix = `${key}=`;
  return labels.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? '';
}

function appOf(ep: Endpoint | undefined): string {
  for (const key of APP_LABELS) {
    const v = labelValue(ep?.labels ?? [], key);
    if (v) return v;
  }
  return '';
}

function identifierValue(id: ContextIdentifier, flow: Flow, side: Side): string {
  const ep = side === 'source' ? flow.source : flow.destination;
  switch (id) {
    case 'identity':
      return (ep?.labels ?? []).join(',');
    case 'namespace':
      return ep?.namespace ?? '';
    case 'pod':
      if (!ep?.podName) return '';
      return ep.namespace ? `${ep.namespace}/${ep.podName}` : ep.podName;
    case 'pod-name':
      return ep?.podName ?? '';
    case 'dns':
      return (side === 'source' ? flow.sourceNames : flow.destinationNames).join(',');
    case 'ip':
      return (side === 'source' ? flow.IP?.source : flow.IP?.destination) ?? '';
    case 'reserved-identity': {
      const labels = ep?.labels ?? [];
      if (labels.includes(RESERVED_KUBE_APISERVER)) return RESERVED_KUBE_APISERVER;
      return labels.find((l) => l.startsWith('reserved:')) ?? '';
    }
    case 'workload': {
      const w = ep?.workloads[0]?.name;
      return w ? `${ep?.namespace ?? ''}/${w}` : '';
    }
    case 'workload-name':
      return ep?.workloads[0]?.name ?? '';
    case 'app':
      return appOf(ep);
  }
}

function labelsContextValue(name: LabelsContextName, flow: Flow): string {
  switch (name) {
    case 'source_ip':
      return flow.IP?.source ?? '';
    case 'source_pod':
      return flow.source?.podName ?? '';
    case 'source_namespace':
      return flow.source?.namespace ?? '';
    case 'source_workload':
      return flow.source?.workloads[0]?.name ?? '';
    case 'source_workload_kind':
      return flow.source?.workloads[0]?.kind ?? '';
    case 'source_app':
      return appOf(flow.source);
    case 'destination_ip':
      return flow.IP?.destination ?? '';
    case 'destination_pod':
      return flow.destination?.podName ?? '';
    case 'destination_namespace':
      return flow.destination?.namespace ?? '';
    case 'destination_workload':
      return flow.destination?.workloads[0]?.name ?? '';
    case 'destination_workload_kind':
      return flow.destination?.workloads[0]?.kind ?? '';
    case 'destination_app':
      return appOf(flow.destination);
    case 'traffic_direction':
      return trafficDirectionName(flow);
  }
}

/** One metric's context labels: names fixed at configuration, values computed per flow. */
export class ContextLabels {
  readonly labelNames: string[];
  private readonly labelsContext: LabelsContextName[];
  private readonly sides: Partial<Record<Side, SideContext>> = {};

  /** options: the metric's context options, name -> comma-separated values already split. */
  constructor(options: Map<string, string[]>) {
    const requested = new Set<string>();
    for (const [option, values] of options) {
      if (option === 'labelsContext') {
        for (const v of values) {
          if (!(LABELS_CONTEXT_NAMES as readonly string[]).includes(v)) {
            throw invalid(`invalid labelsContext value: ${v}; accepted: ${LABELS_CONTEXT_NAMES.join(', ')}`);
          }
          requested.add(v);
        }
        continue;
      }
      const side: Side = option.startsWith('source') ? 'source' : 'destination';
      const ctx = (this.sides[side] ??= { base: [], egress: [], ingress: [] });
      const parsed = parseSideValue(option, values);
      if (option.endsWith('EgressContext')) ctx.egress = parsed;
      else if (option.endsWith('IngressContext')) ctx.ingress = parsed;
      else ctx.base = parsed;
    }
    this.labelsContext = LABELS_CONTEXT_NAMES.filter((n) => requested.has(n));
    this.labelNames = [
      ...this.labelsContext,
      ...(this.sides.source ? ['source'] : []),
      ...(this.sides.destination ? ['destination'] : []),
    ];
  }

  /** Whether a value is read from the flow's IP addresses (the ip identifier, source_ip, destination_ip). */
  get readsIp(): boolean {
    return (
      this.labelsContext.includes('source_ip') ||
      this.labelsContext.includes('destination_ip') ||
      Object.values(this.sides).some((ctx) =>
        [ctx.base, ctx.egress, ctx.ingress].some((lists) =>
          lists.some((alternatives) => alternatives.includes('ip')),
        ),
      )
    );
  }

  /** Whether series of a deleted pod can be found: Cilium's rule for its 1-minute cleanup. */
  podKeyed(): { source: boolean; destination: boolean } {
    const pairs = (side: Side) =>
      this.labelsContext.includes(`${side}_namespace`) && this.labelsContext.includes(`${side}_pod`);
    const podContext = (side: Side) =>
      (this.sides[side]?.base ?? []).some((alternatives) => alternatives.includes('pod'));
    return {
      source: pairs('source') || podContext('source'),
      destination: pairs('destination') || podContext('destination'),
    };
  }

  values(flow: Flow, out: Record<string, string>): void {
    for (const name of this.labelsContext) out[name] = labelsContextValue(name, flow);
    for (const side of ['source', 'destination'] as const) {
      const ctx = this.sides[side];
      if (!ctx) continue;
      const lists =
        flow.trafficDirection === TrafficDirection.EGRESS && ctx.egress.length > 0
          ? ctx.egress
          : flow.trafficDirection === TrafficDirection.INGRESS && ctx.ingress.length > 0
            ? ctx.ingress
            : ctx.base;
      let value = '';
      for (const alternatives of lists) {
        for (const id of alternatives) {
          value = identifierValue(id, flow, side);
          if (value) break;
        }
        if (value) break;
      }
      out[side] = value;
    }
  }
}
