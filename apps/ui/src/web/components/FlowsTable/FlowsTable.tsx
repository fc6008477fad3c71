import { useEffect, useRef, useState } from 'react';
import { useAppStore } from '../../store/context.js';
import {
  destinationName,
  destinationPort,
  dropReason,
  encryptionLabel,
  flowEncryption,
  protocolOf,
  sourceName,
  tcpFlags,
  type FlowView,
} from '../../../shared/flow-fields.js';
import { FlowDetails } from '../FlowDetails/FlowDetails.js';

const rowHeight = 26;
const overscan = 10;

interface Column {
  title: string;
  width: number;
  value(f: FlowView): string;
}

/** Hubble UI's columns plus Encryption, Node and Drop reason. */
const columns: Column[] = [
  { title: 'Source', width: 190, value: sourceName },
  { title: 'Destination', width: 190, value: destinationName },
  { title: 'Port', width: 70, value: (f) => `${destinationPort(f) ?? ''} ${protocolOf(f)}` },
  { title: 'Verdict', width: 96, value: (f) => f.verdict ?? '' },
  { title: 'Encryption', width: 170, value: encryptionLabel },
  { title: 'Node', width: 70, value: (f) => f.node_name ?? '' },
  {
    title: 'Point',
    width: 120,
    value: (f) => (f.trace_observation_point ?? '').toLowerCase().replace(/_/g, '-'),
  },
  { title: 'Drop reason', width: 150, value: dropReason },
  { title: 'TCP flags', width: 80, value: tcpFlags },
  {
    title: 'Timestamp',
    width: 110,
    value: (f) => (f.time ? new Date(f.time).toISOString().slice(11, 23) : ''),
  },
];

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
  const total = store.flows.size;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows: { i: number; f: FlowView }[] = [];
  for (let i = first; i < last; i++) rows.push({ i, f: store.flows.newest(i)! });
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
          {total} flows (newest first, up to {store.flows.capacity})
        </span>
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
            {columns.map((c) => (
              <div key={c.title} style={{ width: c.width }}>
                {c.title}
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
                  key={f.uuid ?? i}
                  className={`tr ${f === store.selected ? 'selected' : ''} enc-${flowEncryption(f)} ${f.verdict === 'DROPPED' ? 'dropped' : ''}`}
                  data-testid="flow-row"
                  data-uuid={f.uuid}
                  style={{ top: i * rowHeight, height: rowHeight }}
                  onClick={() => store.select(f === store.selected ? undefined : f)}
                >
                  {columns.map((c) => (
                    <div key={c.title} style={{ width: c.width }}>
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
