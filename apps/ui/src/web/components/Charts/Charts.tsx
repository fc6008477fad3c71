import { useAppStore } from '../../store/context.js';
import { chartRanges, charts, chartsOf, type ChartId } from '../../../shared/charts.js';
import { formatValue, niceTicks, polyline, seriesMax } from '../../domain/chart.js';

const palette = ['#2f9316', '#c50000', '#1f6feb', '#d98c00', '#6f42c1', '#0a7d8c', '#8b949e', '#bf3989'];
const plot = { width: 460, height: 120 };
const axis = 70;

const clock = (t: number) => new Date(t * 1000).toISOString().slice(11, 16);

function Chart({ id }: { id: ChartId }) {
  const store = useAppStore();
  const state = store.charts.get(id);
  const meta = charts[id];
  let body;
  if (!state) body = <p className="muted">Loading…</p>;
  else if (state.error)
    body = (
      <p className="muted" data-testid="chart-unavailable">
        Metrics unavailable: {state.error}
      </p>
    );
  else {
    const data = state.data!;
    const withPoints = data.series.filter((s) => s.points.length);
    const ticks = niceTicks(seriesMax(withPoints));
    const top = ticks[ticks.length - 1]!;
    const box = { ...plot, start: data.start, end: data.end };
    body = withPoints.length ? (
      <>
        <svg
          width={plot.width + axis + 10}
          height={plot.height + 24}
          data-testid="chart-plot"
          data-chart={id}
          data-series={withPoints.length}
        >
          <g transform={`translate(${axis},4)`}>
            {ticks.map((t) => {
              const y = plot.height - (t / top) * plot.height;
              return (
                <g key={t}>
                  <line x1="0" x2={plot.width} y1={y} y2={y} className="chart-grid" />
                  <text x="-6" y={y + 4} className="chart-tick" textAnchor="end">
                    {formatValue(t, meta.unit)}
                  </text>
                </g>
              );
            })}
            {[data.start, (data.start + data.end) / 2, data.end].map((t, i) => (
              <text
                key={t}
                x={(i / 2) * plot.width}
                y={plot.height + 16}
                className="chart-tick"
                textAnchor={i === 0 ? 'start' : i === 1 ? 'middle' : 'end'}
              >
                {clock(t)}
              </text>
            ))}
            {withPoints.map((s, i) => (
              <polyline
                key={s.name}
                points={polyline(s.points, box, top)}
                fill="none"
                stroke={palette[i % palette.length]}
                strokeWidth="1.6"
              >
                <title>{s.name}</title>
              </polyline>
            ))}
          </g>
        </svg>
        <div className="chart-legend">
          {withPoints.map((s, i) => (
            <span key={s.name}>
              <i style={{ background: palette[i % palette.length] }} /> {s.name}{' '}
              <span className="muted">{formatValue(s.points[s.points.length - 1]![1], meta.unit)}</span>
            </span>
          ))}
        </div>
      </>
    ) : (
      <p className="muted" data-testid="chart-empty">
        No samples in this range.
      </p>
    );
  }
  return (
    <figure className="chart" data-testid="chart" data-chart={id}>
      <figcaption title={state?.data?.query}>{meta.title}</figcaption>
      {body}
    </figure>
  );
}

/** The Prometheus charts of a screen, with the time range they span. */
export function Charts({ screen }: { screen: string }) {
  const store = useAppStore();
  const ids = chartsOf(screen);
  if (!ids.length) return null;
  return (
    <section className="charts" data-testid="charts">
      <h2>
        From Prometheus{' '}
        <select
          value={store.chartRange}
          onChange={(e) => store.setChartRange(e.target.value as (typeof chartRanges)[number])}
          data-testid="chart-range"
        >
          {chartRanges.map((r) => (
            <option key={r} value={r}>
              last {r}
            </option>
          ))}
        </select>
      </h2>
      <div className="chart-grid-row">
        {ids.map((id) => (
          <Chart key={id} id={id} />
        ))}
      </div>
    </section>
  );
}
