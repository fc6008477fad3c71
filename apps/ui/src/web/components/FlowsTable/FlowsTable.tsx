import { useEffect, useMemo, useRef, useState } from 'react';
import { useAppStore } from '../../store/context.js';
import { flowEncryption, type FlowView } from '../../../shared/flow-fields.js';
import { columns, nextSort, sortFlows, visibleColumns, type SortOrder } from '../../domain/table.js';
import { FlowDetails } from '../FlowDetails/FlowDetails.js';

const rowHeight = 26;
const overscan = 10;

function ColumnPicker() {
  const store = useAppStore();
  return (
    <details className="column-picker" data-testid="column-picker">
      <summary>Columns</summary>
      <div className="column-picker-menu">
        {columns.map((c) => (
          <label key={c.id}>
            <input
              type="checkbox"
              checked={!store.hiddenColumns.has(c.id)}
              onChange={() => store.toggleColumn(c.id)}
              data-testid={`column-${c.id}`}
            />
            {c.title}
          </label>
        ))}
      </div>
    </details>
  );
}

export function FlowsTable() {
  const store = useAppStore();
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const body = useRef<HTMLDivElement>(null);
  // measured on resize only: reading clientHeight on every render forced a layout per batch
  useEffect(() => {
    const el = body.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const [sort, setSort] = useState<SortOrder | undefined>();
  const shown = visibleColumns(store.hiddenColumns);
  const total = store.flows.size;
  // a sorted view is rebuilt at most once a second while flows arrive (10,000 rows, a few ms)
  const second = Math.floor(Date.now() / 1000);
  const sorted = useMemo(
    () =>
      sort
        ? sortFlows(
            Array.from({ length: store.flows.size }, (_, i) => store.flows.newest(i)!),
            sort,
          )
        : undefined,
    [sort, second, store.flows.size, store.flows.evicted, store.mapShape],
  );
  const at = (i: number) => (sorted ? sorted[i] : store.flows.newest(i));
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(sorted?.length ?? total, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows: { i: number; f: FlowView }[] = [];
  for (let i = first; i < last; i++) rows.push({ i, f: at(i)! });
  return (
    <div className="flows-screen">
      <div className="flows-toolbar">
        {store.route.since ? (
          <span>History since {store.route.since}</span>
        ) : store.paused ? (
          <button data-testid="resume" onClick={() => store.select(undefined)}>
            ▶ Resume {store.missedWhilePaused ? `(${store.missedWhilePaused} new)` : ''}
          </button>
        ) : (
          <button data-testid="pause" onClick={() => store.pause()}>
            ⏸ Pause
          </button>
        )}
        <span className="muted" data-testid="flow-count">
          {total} flows (
          {sort
            ? `by ${columns.find((c) => c.id === sort.column)?.title}${sort.descending ? ', descending' : ''}`
            : 'newest first'}
          , up to {store.flows.capacity})
        </span>
        <ColumnPicker />
        {store.skipped > 0 && (
          <span className="warn-text" data-testid="skipped">
            {store.skipped} flows skipped (browser behind)
          </span>
        )}
        {store.lost > 0 && <span className="warn-text">{store.lost} events lost upstream</span>}
        {store.historyError && <span className="warn-text">{store.historyError}</span>}
      </div>
      <div className="flows-body">
        <div className="table">
          <div className="thead">
            {shown.map((c) => (
              <div
                key={c.id}
                style={{ width: c.width }}
                className={`col-${c.id} sortable`}
                data-testid={`th-${c.id}`}
                data-sort={sort?.column === c.id ? (sort.descending ? 'descending' : 'ascending') : undefined}
                title="sort by this column (again: descending, a third time: newest first)"
                onClick={() => setSort(nextSort(sort, c.id))}
              >
                {c.title}
                {sort?.column === c.id ? (sort.descending ? ' ▼' : ' ▲') : ''}
              </div>
            ))}
          </div>
          <div
            className="tbody"
            data-testid="flows-table"
            ref={body}
            onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
          >
            <div style={{ height: total * rowHeight, position: 'relative' }}>
              {rows.map(({ i, f }) => (
                <div
                  // live: a row keeps its key as newer flows push it down, so React moves it
                  // instead of rewriting every cell (and replayed flows' repeated uuids collide)
                  key={sorted ? i : store.flows.pushed - 1 - i}
                  className={`tr ${f === store.selected ? 'selected' : ''} enc-${flowEncryption(f)} ${f.verdict === 'DROPPED' ? 'dropped' : ''}`}
                  data-testid="flow-row"
                  data-uuid={f.uuid}
                  style={{ top: i * rowHeight, height: rowHeight }}
                  onClick={() => store.select(f === store.selected ? undefined : f)}
                >
                  {shown.map((c) => (
                    <div key={c.id} style={{ width: c.width }} className={`col-${c.id}`}>
                      {c.value(f)}
                    </div>
                  ))}
                </div>
              ))}
            </div>
          </div>
        </div>
        {store.selected && <FlowDetails flow={store.selected} />}
      </div>
    </div>
  );
}
