// A real graph layout for the map (dagre, layered, left to right) with a box per namespace:
// cards of one namespace are children of its group node, so namespaces stay islands.
import dagre from '@dagrejs/dagre';
import type { ServiceMap } from './service-map.js';

export const cardWidth = 190;
export const cardHeaderHeight = 42;
export const portRowHeight = 18;

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
  cardHeaderHeight + Math.max(1, ports) * portRowHeight + 8;

export function layoutServiceMap(map: ServiceMap): MapLayout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const card of map.cards.values()) {
    g.setNode(card.id, { width: cardWidth, height: cardHeight(card.ports.size) });
    if (card.namespace) {
      const group = `ns:${card.namespace}`;
      if (!g.hasNode(group)) g.setNode(group, { label: card.namespace, paddingTop: 24 });
      g.setParent(card.id, group);
    }
  }
  for (const link of map.links.values()) if (link.from !== link.to) g.setEdge(link.from, link.to);
  dagre.layout(g);
  const cards = new Map<string, Box>();
  const namespaces = new Map<string, Box>();
  for (const id of g.nodes()) {
    const n = g.node(id) as { x: number; y: number; width: number; height: number } | undefined;
    if (!n) continue;
    const box = { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
    if (id.startsWith('ns:')) namespaces.set(id.slice(3), box);
    else cards.set(id, box);
  }
  const graph = g.graph() as { width?: number; height?: number };
  return { cards, namespaces, width: graph.width ?? 0, height: graph.height ?? 0 };
}
