// The service map's model, derived from flows: a card per workload (pods grouped by namespace and
// app label, as Hubble UI's cards), its received ports, and one link per (sender, receiver, port,
// protocol) carrying its encryption state and verdicts.
import {
  destinationPort,
  dropReason,
  flowEncryption,
  nodePair,
  protocolOf,
  type EndpointJson,
  type FlowView,
} from '../../shared/flow-fields.js';

export interface Card {
  id: string;
  name: string;
  namespace: string;
  pods: Set<string>;
  /** "8080/TCP" for every port it received on. */
  ports: Set<string>;
  /** world, host, … when the card is not a pod workload. */
  reserved?: string;
}

/** What the link's traffic says about encryption, worst first. */
export type LinkEncryption = 'plaintext' | 'partial' | 'encrypted' | 'same-node' | 'unknown';

export interface Link {
  id: string;
  from: string;
  to: string;
  port: string;
  flows: number;
  encrypted: number;
  plaintext: number;
  sameNode: number;
  /** WireGuard tunnels the encrypted traffic used, as "node2→node3". */
  tunnels: Set<string>;
  verdicts: Map<string, number>;
  /** Drop reason -> count. */
  drops: Map<string, number>;
}

export interface ServiceMap {
  cards: Map<string, Card>;
  links: Map<string, Link>;
}

const appLabelKeys = ['app', 'name', 'k8s-app', 'app.kubernetes.io/name', 'functionName'];
const reservedNames: Record<number, string> = { 1: 'host', 2: 'world', 4: 'health', 6: 'remote-node' };

const appLabelRank = new Map(appLabelKeys.map((k, i) => [k, i]));

/** The first of appLabelKeys the endpoint has, in one pass over its labels (this runs per flow). */
function appLabel(ep: EndpointJson): string | undefined {
  let best: string | undefined;
  let bestRank = appLabelKeys.length;
  for (const l of ep.labels ?? []) {
    const text = l.startsWith('k8s:') ? l.slice(4) : l;
    const eq = text.indexOf('=');
    const rank = eq < 0 ? undefined : appLabelRank.get(text.slice(0, eq));
    if (rank !== undefined && rank < bestRank) {
      bestRank = rank;
      best = text.slice(eq + 1);
    }
  }
  return best;
}

function cardOf(
  ep: EndpointJson | undefined,
  ip: string | undefined,
): Omit<Card, 'pods' | 'ports'> & { pod?: string } {
  const reserved = ep?.identity !== undefined ? reservedNames[ep.identity] : undefined;
  if (!ep?.pod_name) {
    const name = reserved ?? ip ?? 'unknown';
    return { id: `reserved:${name}`, name, namespace: '', reserved: reserved ?? 'world' };
  }
  const namespace = ep.namespace ?? '';
  const name = appLabel(ep) ?? ep.workloads?.[0]?.name ?? ep.pod_name;
  return { id: `${namespace}/${name}`, name, namespace, pod: ep.pod_name };
}

export function linkEncryption(l: Link): LinkEncryption {
  if (l.plaintext > 0) return l.encrypted > 0 ? 'partial' : 'plaintext';
  if (l.encrypted > 0) return 'encrypted';
  if (l.sameNode > 0) return 'same-node';
  return 'unknown';
}

export class ServiceMapBuilder {
  readonly map: ServiceMap = { cards: new Map(), links: new Map() };

  private card(ep: EndpointJson | undefined, ip: string | undefined): Card {
    const c = cardOf(ep, ip);
    let card = this.map.cards.get(c.id);
    if (!card) {
      card = { id: c.id, name: c.name, namespace: c.namespace, pods: new Set(), ports: new Set() };
      if (c.reserved) card.reserved = c.reserved;
      this.map.cards.set(c.id, card);
    }
    if (c.pod) card.pods.add(c.pod);
    return card;
  }

  add(f: FlowView): void {
    // replies travel the same link backwards: Hubble UI draws requests only
    if (f.is_reply) return;
    const protocol = protocolOf(f);
    if (!protocol) return;
    const from = this.card(f.source, f.IP?.source);
    const to = this.card(f.destination, f.IP?.destination);
    const port = `${destinationPort(f) ?? ''}${destinationPort(f) !== undefined ? '/' : ''}${protocol}`;
    to.ports.add(port);
    const id = `${from.id} → ${to.id}:${port}`;
    let link = this.map.links.get(id);
    if (!link) {
      link = {
        id,
        from: from.id,
        to: to.id,
        port,
        flows: 0,
        encrypted: 0,
        plaintext: 0,
        sameNode: 0,
        tunnels: new Set(),
        verdicts: new Map(),
        drops: new Map(),
      };
      this.map.links.set(id, link);
    }
    link.flows++;
    const verdict = f.verdict ?? 'VERDICT_UNKNOWN';
    link.verdicts.set(verdict, (link.verdicts.get(verdict) ?? 0) + 1);
    const reason = dropReason(f);
    if (reason) link.drops.set(reason, (link.drops.get(reason) ?? 0) + 1);
    const state = flowEncryption(f);
    if (state === 'encrypted') {
      link.encrypted++;
      const pair = nodePair(f);
      if (pair) link.tunnels.add(`${pair.from}→${pair.to}`);
    } else if (state === 'plaintext') link.plaintext++;
    else if (state === 'same-node') link.sameNode++;
  }
}

export function buildServiceMap(flows: Iterable<FlowView>, namespaces?: ReadonlySet<string>): ServiceMap {
  const b = new ServiceMapBuilder();
  for (const f of flows) {
    if (
      namespaces?.size &&
      !namespaces.has(f.source?.namespace ?? '') &&
      !namespaces.has(f.destination?.namespace ?? '')
    )
      continue;
    b.add(f);
  }
  return b.map;
}
