import { useEffect, useState } from 'react';
import { useAppStore } from '../../store/context.js';
import { screens, type Screen } from '../../domain/route.js';
import { api } from '../../api/rest.js';

const titles: Record<Screen, string> = {
  map: 'Service map',
  flows: 'Flows',
  encryption: 'Encryption',
  drops: 'Drops & verdicts',
  health: 'Health',
};

const placeholder =
  'Filter: pod=shop/frontend, from:namespace=shop, encrypted=false, verdict=DROPPED, port=8080, node=node1';

export function TopBar() {
  const store = useAppStore();
  const { route, status } = store;
  const [text, setText] = useState(route.filters.join(', '));
  useEffect(() => setText(route.filters.join(', ')), [route.filters]);
  const apply = () =>
    store.navigate({
      filters: text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    });
  const historyQuery = { filters: route.filters, since: route.since, until: route.until, limit: 20000 };
  const connected = status ? `${status.connectedNodes}/${status.nodes.length} nodes` : '…';
  return (
    <header className="topbar">
      <div className="brand">Wirescope</div>
      <nav>
        {screens.map((s) => (
          <a
            key={s}
            href={`/${s}`}
            data-testid={`nav-${s}`}
            className={route.screen === s ? 'active' : ''}
            onClick={(e) => {
              e.preventDefault();
              store.navigate({ screen: s });
            }}
          >
            {titles[s]}
          </a>
        ))}
      </nav>
      <form
        className="filterbar"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <input
          data-testid="filter-input"
          value={text}
          placeholder={placeholder}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={!!store.filterError}
        />
        <select
          data-testid="time-range"
          value={route.since ?? ''}
          onChange={(e) => store.navigate({ since: e.target.value || undefined, until: undefined })}
        >
          <option value="">Live</option>
          <option value="1m">Last 1 minute</option>
          <option value="5m">Last 5 minutes</option>
          <option value="15m">Last 15 minutes</option>
          <option value="1h">Last hour</option>
        </select>
        <a className="button" data-testid="export-jsonl" href={api.exportUrl(historyQuery, 'jsonl')}>
          JSON
        </a>
        <a className="button" data-testid="export-csv" href={api.exportUrl(historyQuery, 'csv')}>
          CSV
        </a>
        {store.filterError && (
          <div className="filter-error" data-testid="filter-error" role="alert">
            {store.filterError}
          </div>
        )}
      </form>
      <div className="indicator" data-testid="connection">
        <span className={`dot ${store.connection}`} />
        {route.since
          ? 'History'
          : store.paused
            ? 'Paused'
            : store.connection === 'receiving'
              ? 'Receiving…'
              : store.connection}
        <span className="muted">
          {' '}
          {store.flowsPerSecond} flows/s • {connected}
        </span>
      </div>
    </header>
  );
}
