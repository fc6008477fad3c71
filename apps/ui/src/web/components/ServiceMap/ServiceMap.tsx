import { useMemo } from 'react';
import { useAppStore } from '../../store/context.js';
import {
  linkEncryption,
  type Link,
  type LinkEncryption,
  type ServiceMap as ServiceMapModel,
} from '../../domain/service-map.js';
import {
  cardHeaderHeight,
  cardWidth,
  layoutServiceMap,
  portRowHeight,
  type Box,
  type MapLayout,
} from '../../domain/layout.js';

export const encryptionStyle: Record<
  LinkEncryption,
  { color: string; glyph: string; title: string; dash?: string }
> = {
  encrypted: { color: '#2f9316', glyph: 'locked', title: 'encrypted (WireGuard)' },
  partial: { color: '#d98c00', glyph: '◐', title: 'partially encrypted', dash: '8 4' },
  plaintext: { color: '#c50000', glyph: 'open', title: 'plaintext cross-node' },
  'same-node': { color: '#5b7db1', glyph: '⌂', title: 'same node (never needs encryption)', dash: '2 4' },
  unknown: { color: '#9aa4ae', glyph: '', title: 'no encryption facts' },
};

/** A padlock (closed or open) drawn in SVG: emoji fonts are missing on many servers' browsers. */
function Padlock({ x, y, open, color }: { x: number; y: number; open: boolean; color: string }) {
  return (
    <g transform={`translate(${x - 6},${y - 11})`}>
      <rect x="0" y="5" width="12" height="9" rx="1.5" fill={color} />
      <path
        d={open ? 'M3 5 V3 a3 3 0 0 1 6 0' : 'M3 5 V3 a3 3 0 0 1 6 0 V5'}
        fill="none"
        stroke={color}
        strokeWidth="1.8"
      />
    </g>
  );
}

function Glyph({ glyph, x, y, color }: { glyph: string; x: number; y: number; color: string }) {
  if (glyph === 'locked' || glyph === 'open')
    return <Padlock x={x} y={y} open={glyph === 'open'} color={color} />;
  return (
    <text x={x - 5} y={y} className="edge-glyph" fill={color}>
      {glyph}
    </text>
  );
}

const droppedColor = '#8250df';

function verdictText(l: Link): string {
  const parts = [...l.verdicts.entries()].map(([v, n]) => `${v.toLowerCase()} ${n}`);
  const drops = [...l.drops.entries()].map(([r, n]) => `${r} ${n}`);
  return [parts.join(', '), drops.length ? `dropped: ${drops.join(', ')}` : ''].filter(Boolean).join(' • ');
}

function edgePath(from: Box, to: Box): string {
  const x1 = from.x + from.width;
  const y1 = from.y + cardHeaderHeight / 2;
  const x2 = to.x;
  const y2 = to.y + cardHeaderHeight / 2;
  if (x2 < x1) {
    // a link back (or inside one rank): route under the cards
    const low = Math.max(from.y + from.height, to.y + to.height) + 16;
    return `M${x1},${y1} C${x1 + 40},${low} ${x2 - 40},${low} ${x2},${y2}`;
  }
  const mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
}

function mapSvg(map: ServiceMapModel, layout: MapLayout, shown: Set<string>) {
  const links = [...map.links.values()].filter((l) => l.from !== l.to);
  return (
    <svg className="map" data-testid="service-map" width={layout.width + 40} height={layout.height + 40}>
      {[...layout.namespaces.entries()].map(([ns, box]) =>
        shown.size && !shown.has(ns) ? null : (
          <g key={ns} data-testid={`ns-${ns}`}>
            <rect x={box.x} y={box.y} width={box.width} height={box.height} rx="10" className="ns-box" />
            <text x={box.x + 10} y={box.y + 16} className="ns-label">
              {ns}
            </text>
          </g>
        ),
      )}
      {links.map((l) => {
        const from = layout.cards.get(l.from);
        const to = layout.cards.get(l.to);
        if (!from || !to) return null;
        const fromNs = map.cards.get(l.from)?.namespace ?? '';
        const toNs = map.cards.get(l.to)?.namespace ?? '';
        if (shown.size && !shown.has(fromNs) && !shown.has(toNs)) return null;
        const state = linkEncryption(l);
        const style = encryptionStyle[state];
        const dropped = l.verdicts.has('DROPPED');
        const d = edgePath(from, to);
        const mx = (from.x + from.width + to.x) / 2;
        const my = (from.y + to.y + cardHeaderHeight) / 2;
        return (
          <g
            key={l.id}
            className="edge"
            data-testid="map-edge"
            data-from={l.from}
            data-to={l.to}
            data-port={l.port}
            data-encryption={state}
            data-verdicts={[...l.verdicts.keys()].join(',')}
            data-tunnels={[...l.tunnels].sort().join(',')}
          >
            <title>
              {`${l.from} → ${l.to}:${l.port}\n${style.title}${l.tunnels.size ? ` (tunnel ${[...l.tunnels].join(', ')})` : ''}\n` +
                `${l.flows} flows: ${l.encrypted} encrypted, ${l.plaintext} plaintext, ${l.sameNode} same-node\n${verdictText(l)}`}
            </title>
            <path
              d={d}
              fill="none"
              stroke={dropped ? droppedColor : style.color}
              strokeWidth={dropped ? 3 : 2}
              strokeDasharray={style.dash}
              markerEnd="url(#arrow)"
            />
            <Glyph glyph={style.glyph} x={mx} y={my} color={style.color} />
            {dropped && (
              <text x={mx + 9} y={my} className="edge-glyph" fill={droppedColor}>
                ✖
              </text>
            )}
          </g>
        );
      })}
      {[...map.cards.values()].map((c) => {
        const box = layout.cards.get(c.id);
        if (!box) return null;
        if (shown.size && c.namespace && !shown.has(c.namespace)) return null;
        return (
          <g
            key={c.id}
            transform={`translate(${box.x},${box.y})`}
            className="card"
            data-testid="map-card"
            data-card={c.id}
          >
            <rect
              width={cardWidth}
              height={box.height}
              rx="8"
              className={c.reserved ? 'card-box reserved' : 'card-box'}
            />
            <text x="10" y="18" className="card-name">
              {c.name}
            </text>
            <text x="10" y="33" className="card-ns">
              {c.namespace || c.reserved}{' '}
              {c.pods.size ? `• ${c.pods.size} pod${c.pods.size > 1 ? 's' : ''}` : ''}
            </text>
            {[...c.ports].sort().map((p, i) => (
              <text key={p} x="14" y={cardHeaderHeight + 12 + i * portRowHeight} className="card-port">
                ● {p}
              </text>
            ))}
          </g>
        );
      })}
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7785" />
        </marker>
      </defs>
    </svg>
  );
}

/** The map's own style rules (cards, namespace boxes, edge glyphs), for a standalone SVG file. */
function mapCss(): string {
  const rules: string[] = [];
  for (const sheet of Array.from(document.styleSheets)) {
    let list: CSSRuleList;
    try {
      list = sheet.cssRules;
    } catch {
      continue; // a sheet from another origin cannot be read
    }
    for (const rule of Array.from(list))
      if (/^\.(ns-|card-|edge-)/.test((rule as CSSStyleRule).selectorText ?? '')) rules.push(rule.cssText);
  }
  return rules.join('\n');
}

/** Downloads the map as drawn (the namespaces shown, every card and edge) as an SVG file. */
function exportSvg(): void {
  const svg = document.querySelector<SVGSVGElement>('[data-testid=service-map]');
  if (!svg) return;
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const style = document.createElementNS('http://www.w3.org/2000/svg', 'style');
  style.textContent = `svg { font-family: sans-serif; background: #f6f8fa; }\n${mapCss()}`;
  copy.insertBefore(style, copy.firstChild);
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}`;
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `wirescope-map-${new Date().toISOString().replace(/[:.]/g, '-')}.svg`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ServiceMap() {
  const store = useAppStore();
  const { map } = store.map;
  // the layout follows the map's shape (cards and links), not every flow
  const layout = useMemo(() => layoutServiceMap(map), [store.mapShape, map]);
  const shown = new Set(store.route.namespaces);
  // the drawing changes with the map's shape, and its edge states at most once a second: a
  // reused element is skipped by React, so live batches re-render the legend and not every edge
  const second = Math.floor(Date.now() / 1000);
  const namespaces = store.route.namespaces.join(',');
  const svg = useMemo(
    () => mapSvg(map, layout, new Set(namespaces ? namespaces.split(',') : [])),
    [map, layout, second, namespaces],
  );
  if (map.cards.size === 0)
    return (
      <div className="empty" data-testid="map-empty">
        {store.loadingHistory ? 'Loading flows…' : 'No flows yet for this filter.'}
      </div>
    );
  return (
    <div className="map-wrap">
      <div className="legend">
        {(Object.keys(encryptionStyle) as LinkEncryption[]).map((k) => (
          <span key={k}>
            <svg width="28" height="10">
              <line
                x1="0"
                y1="5"
                x2="28"
                y2="5"
                stroke={encryptionStyle[k].color}
                strokeWidth="3"
                strokeDasharray={encryptionStyle[k].dash}
              />
            </svg>
            <svg width="14" height="14">
              <Glyph glyph={encryptionStyle[k].glyph} x={7} y={12} color={encryptionStyle[k].color} />
            </svg>{' '}
            {encryptionStyle[k].title}
          </span>
        ))}
        <span>
          <svg width="28" height="10">
            <line x1="0" y1="5" x2="28" y2="5" stroke={droppedColor} strokeWidth="3" />
          </svg>
          ✖ dropped (policy, strict mode, kernel)
        </span>
        <button onClick={exportSvg} data-testid="export-svg" title="the map as drawn, as an SVG file">
          SVG
        </button>
        <span className="muted">namespaces:</span>
        {store.namespaces.map((ns) => (
          <label key={ns}>
            <input
              type="checkbox"
              checked={shown.has(ns)}
              onChange={() =>
                store.navigate({
                  namespaces: shown.has(ns)
                    ? store.route.namespaces.filter((n) => n !== ns)
                    : [...store.route.namespaces, ns],
                })
              }
            />
            {ns}
          </label>
        ))}
      </div>
      {svg}
    </div>
  );
}
