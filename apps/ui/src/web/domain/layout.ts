// A real graph layout for the map, in two levels so namespaces stay islands and big clusters stay
// fast: dagre (layered, left to right) lays out the cards of each namespace on the links inside
// it, then lays out the namespace boxes themselves on the links between them. (One compound
// dagre graph took seconds on 300 workloads and failed on some inputs.)
import dagre from '@dagrejs/dagre';
import type { ServiceMap } from './service-map.js';

export const cardWidth = 190;
export const cardHeaderHeight = 42;
export const portRowHeight = 18;
const nsPadding = 16;
const nsTitle = 24;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MapLayout {
  cards: Map<string, Box>;
  namespaces: Map<string, Box>;
  width: number;
  height: number;
}

export const cardHeight = (ports: number): number =>
  cardHeaderHeight + Math.min(8, Math.max(1, ports)) * portRowHeight + 8;

interface Sized {
  width: number;
  height: number;
}

/** dagre over `nodes` and `edges`; positions are top-left corners, plus the graph's size. */
function layered(
  nodes: Map<string, Sized>,
  edges: Iterable<[string, string]>,
  spacing: { nodesep: number; ranksep: number },
): { at: Map<string, { x: number; y: number }>; width: number; height: number } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', ...spacing, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const [id, size] of nodes) g.setNode(id, { width: size.width, height: size.height });
  for (const [a, b] of edges) if (a !== b && nodes.has(a) && nodes.has(b)) g.setEdge(a, b);
  dagre.layout(g);
  const at = new Map<string, { x: number; y: number }>();
  for (const [id, size] of nodes) {
    const n = g.node(id) as { x: number; y: number };
    at.set(id, { x: n.x - size.width / 2, y: n.y - size.height / 2 });
  }
  const graph = g.graph() as { width?: number; height?: number };
  return { at, width: graph.width ?? 0, height: graph.height ?? 0 };
}

export function layoutServiceMap(map: ServiceMap): MapLayout {
  const byNs = new Map<string, Map<string, Sized>>();
  for (const card of map.cards.values()) {
    const ns = card.namespace || '(outside the cluster)';
    if (!byNs.has(ns)) byNs.set(ns, new Map());
    byNs.get(ns)!.set(card.id, { width: cardWidth, height: cardHeight(card.ports.size) });
  }
  const nsOf = (id: string) => map.cards.get(id)?.namespace || '(outside the cluster)';
  const inner = new Map<string, [string, string][]>();
  const between: [string, string][] = [];
  for (const l of map.links.values()) {
    const [a, b] = [nsOf(l.from), nsOf(l.to)];
    if (a === b) {
      if (!inner.has(a)) inner.set(a, []);
      inner.get(a)!.push([l.from, l.to]);
    } else between.push([a, b]);
  }
  const local = new Map<string, ReturnType<typeof layered>>();
  const sizes = new Map<string, Sized>();
  for (const [ns, cards] of byNs) {
    const l = layered(cards, inner.get(ns) ?? [], { nodesep: 24, ranksep: 70 });
    local.set(ns, l);
    sizes.set(ns, { width: l.width + 2 * nsPadding, height: l.height + nsTitle + 2 * nsPadding });
  }
  const top = layered(sizes, between, { nodesep: 40, ranksep: 110 });
  const margin = 20;
  const cards = new Map<string, Box>();
  const namespaces = new Map<string, Box>();
  for (const [ns, size] of sizes) {
    const origin = top.at.get(ns)!;
    const box = { x: origin.x + margin, y: origin.y + margin, ...size };
    namespaces.set(ns, box);
    for (const [id, p] of local.get(ns)!.at) {
      const s = byNs.get(ns)!.get(id)!;
      cards.set(id, { x: box.x + nsPadding + p.x, y: box.y + nsTitle + nsPadding + p.y, ...s });
    }
  }
  return { cards, namespaces, width: top.width + 2 * margin, height: top.height + 2 * margin };
}
