/**
 * DASHBOARDS -> Grafana dashboard JSON through the Grafana foundation SDK, pinned to the
 * Grafana 11.6 build (schemaVersion 41), one Prometheus data source variable and a node variable.
 */
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DataSourceRef,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  LegendDisplayMode,
  LegendPlacement,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DASHBOARDS, type DashboardSpec, type PanelSpec } from './table.js';

const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
const HEIGHT = 8;

function target(panel: PanelSpec): DataqueryBuilder[] {
  return panel.queries.map((q, i) => {
    const b = new DataqueryBuilder()
      .expr(q.expr)
      .refId(String.fromCharCode(65 + i))
      .legendFormat(q.legend ?? '__auto');
    return q.instant ? b.instant().format('table' as never) : b.range();
  });
}

function panelBuilder(panel: PanelSpec, id: number) {
  const width = panel.width ?? 12;
  let builder;
  switch (panel.kind) {
    case 'stat':
      builder = new StatPanelBuilder();
      break;
    case 'table':
      builder = new TablePanelBuilder();
      break;
    case 'timeseries':
      builder = new TimeseriesPanelBuilder().legend(
        new VizLegendOptionsBuilder()
          .showLegend(true)
          .displayMode(LegendDisplayMode.List)
          .placement(LegendPlacement.Bottom),
      );
      break;
  }
  builder.id(id).title(panel.title).description(panel.description).datasource(DATASOURCE).unit(panel.unit);
  builder.height(HEIGHT).span(width);
  if (panel.min !== undefined) builder.min(panel.min);
  if (panel.max !== undefined) builder.max(panel.max);
  for (const t of target(panel)) builder.withTarget(t);
  return builder;
}

export function buildDashboard(spec: DashboardSpec): Dashboard {
  const dashboard = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['wirescope'])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder('node')
        .label('Node')
        .datasource(DATASOURCE)
        .query('label_values(up{job="wirescope-agent"}, node)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    );
  let id = 1;
  for (const row of spec.rows) {
    dashboard.withRow(new RowBuilder(row.title).id(id++));
    for (const panel of row.panels) dashboard.withPanel(panelBuilder(panel, id++));
  }
  return dashboard.build();
}

/** file name (under grafana/dashboards/) -> dashboard */
export function buildAll(): Map<string, Dashboard> {
  return new Map(DASHBOARDS.map((d) => [`${d.uid}.json`, buildDashboard(d)]));
}

/** The JSON text committed for a dashboard: 2-space indent, trailing newline (prettier's form). */
export function dashboardJson(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
