// Every screen is a URL, and the filters live in it: /flows?filter=from:pod=shop/frontend&filter=encrypted=false
export const screens = ['map', 'flows', 'encryption', 'drops', 'health'] as const;
export type Screen = (typeof screens)[number];

export interface Route {
  screen: Screen;
  filters: string[];
  /** Namespaces the map shows (all when empty). */
  namespaces: string[];
  since?: string | undefined;
  until?: string | undefined;
}

export function parseRoute(pathname: string, search: string): Route {
  const name = pathname.replace(/^\/+|\/+$/g, '') || 'map';
  const screen = (screens as readonly string[]).includes(name) ? (name as Screen) : 'map';
  const params = new URLSearchParams(search);
  return {
    screen,
    filters: params.getAll('filter').filter(Boolean),
    namespaces: params.getAll('namespace').filter(Boolean),
    since: params.get('since') || undefined,
    until: params.get('until') || undefined,
  };
}

export function formatRoute(r: Route): string {
  const params = new URLSearchParams();
  for (const f of r.filters) params.append('filter', f);
  for (const n of r.namespaces) params.append('namespace', n);
  if (r.since) params.set('since', r.since);
  if (r.until) params.set('until', r.until);
  const q = params.toString();
  return `/${r.screen}${q ? `?${q}` : ''}`;
}
