// A connection's journey across observation points on both nodes: every flow of the same 5-tuple
// (either direction kept apart), ordered the way a packet travels.
import { destinationPort, protocolOf, type FlowView } from '../../shared/flow-fields.js';

const order = [
  'FROM_ENDPOINT',
  'TO_PROXY',
  'FROM_PROXY',
  'TO_STACK',
  'TO_CRYPTO',
  'TO_OVERLAY',
  'TO_NETWORK',
  'FROM_NETWORK',
  'FROM_OVERLAY',
  'FROM_CRYPTO',
  'FROM_STACK',
  'TO_HOST',
  'FROM_HOST',
  'TO_ENDPOINT',
];

export function tupleKey(f: FlowView): string {
  const sport = f.l4?.TCP?.source_port ?? f.l4?.UDP?.source_port ?? '';
  return `${protocolOf(f)} ${f.IP?.source}:${sport} → ${f.IP?.destination}:${destinationPort(f) ?? ''}`;
}

export interface JourneyStep {
  point: string;
  node: string;
  time: string;
  verdict: string;
  encrypted: boolean;
  peer: string;
}

export function journey(of: FlowView, flows: Iterable<FlowView>): JourneyStep[] {
  const key = tupleKey(of);
  const steps = new Map<string, JourneyStep>();
  for (const f of flows) {
    if (tupleKey(f) !== key) continue;
    const point = f.trace_observation_point ?? (f.verdict === 'DROPPED' ? 'DROPPED' : 'UNKNOWN_POINT');
    const id = `${f.node_name}|${point}`;
    // the first sighting of each point on each node: later ones repeat it for more packets
    if (steps.has(id)) continue;
    steps.set(id, {
      point,
      node: f.node_name ?? '',
      time: f.time ?? '',
      verdict: f.verdict ?? '',
      encrypted: !!f.IP?.encrypted,
      peer: f.extensions?.peer_node ?? '',
    });
  }
  const rank = (s: JourneyStep) => {
    const i = order.indexOf(s.point);
    return i < 0 ? order.length : i;
  };
  return [...steps.values()].sort((a, b) => rank(a) - rank(b) || a.time.localeCompare(b.time));
}
