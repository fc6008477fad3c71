import { useAppStore } from '../../store/context.js';
import { dropsOverTime, policyVerdicts, topDroppedPairs } from '../../domain/drops.js';
import { Charts } from '../Charts/Charts.js';

const palette = ['#c50000', '#d98c00', '#6f42c1', '#1f6feb', '#2f9316', '#8b949e'];

export function DropsView() {
  const store = useAppStore();
  const series = dropsOverTime(store.flows, 10_000);
  const pairs = topDroppedPairs(store.flows);
  const verdicts = policyVerdicts(store.flows);
  const reasons = [...series.reasons.entries()];
  const max = Math.max(
    1,
    ...Array.from({ length: series.buckets }, (_, i) => reasons.reduce((s, [, r]) => s + r[i]!, 0)),
  );
  const w = 14;
  return (
    <div className="drops">
      <section>
        <h2>Drops by reason (last 5 minutes, 10 s buckets)</h2>
        {reasons.length === 0 ? (
          <p className="muted">No drops in the buffer.</p>
        ) : (
          <svg width={series.buckets * w + 20} height="140" data-testid="drops-chart">
            {Array.from({ length: series.buckets }, (_, i) => {
              let y = 130;
              return reasons.map(([reason, row], k) => {
                const h = (row[i]! / max) * 120;
                y -= h;
                return (
                  <rect
                    key={`${i}-${reason}`}
                    x={10 + i * w}
                    y={y}
                    width={w - 2}
                    height={h}
                    fill={palette[k % palette.length]}
                  >
                    <title>{`${reason}: ${row[i]}`}</title>
                  </rect>
                );
              });
            })}
          </svg>
        )}
        <div className="legend">
          {reasons.map(([r], k) => (
            <span key={r}>
              <span className="swatch" style={{ background: palette[k % palette.length] }} /> {r}
            </span>
          ))}
        </div>
      </section>
      <section>
        <h2>Top dropped pairs</h2>
        <table className="list" data-testid="dropped-pairs">
          <tbody>
            {pairs.map((p) => (
              <tr key={`${p.pair}|${p.reason}`}>
                <td>{p.pair}</td>
                <td>{p.reason}</td>
                <td>{p.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Policy verdicts</h2>
        {verdicts.length === 0 ? (
          <p className="muted" data-testid="no-policy">
            No policy verdicts in these flows: no network policy is enforced yet (or none matched).
          </p>
        ) : (
          <table className="list" data-testid="policy-verdicts">
            <tbody>
              {verdicts.map((v) => (
                <tr key={`${v.policy}|${v.verdict}`}>
                  <td>{v.policy}</td>
                  <td>{v.verdict}</td>
                  <td>{v.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <Charts screen="drops" />
    </div>
  );
}
