/**
 * Every panel query of a built dashboard with its template variables resolved, as a Prometheus
 * API client would send them (the lab's e2e test runs each against the lab's Prometheus).
 */

interface PanelJson {
  type?: string;
  title?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: PanelJson[];
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

/** $node -> a regex for every node; $__rate_interval -> a window of four scrape intervals. */
export function resolveVariables(expr: string, vars: { node?: string; rateInterval?: string } = {}): string {
  return expr
    .replaceAll('$__rate_interval', vars.rateInterval ?? '1m')
    .replaceAll('$node', vars.node ?? '.*');
}

export function panelQueries(
  dashboard: { title?: string; panels?: PanelJson[] },
  vars?: { node?: string; rateInterval?: string },
): PanelQuery[] {
  const out: PanelQuery[] = [];
  const walk = (panels: PanelJson[]) => {
    for (const p of panels) {
      if (p.panels) walk(p.panels);
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        out.push({
          dashboard: dashboard.title ?? '',
          panel: p.title ?? '',
          refId: t.refId ?? '',
          expr: resolveVariables(t.expr, vars),
        });
      }
    }
  };
  walk(dashboard.panels ?? []);
  return out;
}
