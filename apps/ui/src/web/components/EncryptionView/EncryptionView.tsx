import { useState } from 'react';
import { useAppStore } from '../../store/context.js';
import {
  coverageMatrix,
  driftChecklist,
  handshakeTimeline,
  leakTable,
  pairKey,
  type CoverageState,
} from '../../domain/encryption.js';
import { Charts } from '../Charts/Charts.js';

const stateClass: Record<CoverageState, string> = {
  Encrypted: 'cov-ok',
  Partial: 'cov-partial',
  Plaintext: 'cov-bad',
  'No traffic': 'cov-idle',
  'No peer': 'cov-nopeer',
};

const bytes = (n: number): string =>
  n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

function Timeline() {
  const store = useAppStore();
  const enc = store.encryption;
  if (!enc) return null;
  const busy = new Set(store.pairs.counts().keys());
  const lanes = handshakeTimeline(enc.handshakes, busy);
  if (enc.handshakesError) return <p className="warn-text">Handshakes unavailable: {enc.handshakesError}</p>;
  if (!lanes.length) return <p className="muted">No handshakes recorded yet.</p>;
  const times = enc.handshakes.map((h) => Date.parse(h.time));
  const end = Date.now();
  const start = Math.min(...times, end - 60_000);
  const width = 720;
  const x = (t: number) => 130 + ((t - start) / Math.max(1, end - start)) * (width - 140);
  const colors: Record<string, string> = {
    initiation: '#1f6feb',
    response: '#2f9316',
    'cookie-reply': '#d98c00',
  };
  return (
    <svg width={width} height={lanes.length * 28 + 24} data-testid="handshake-timeline">
      {lanes.map((lane, i) => (
        <g key={lane.pair} transform={`translate(0,${i * 28 + 8})`}>
          <text x="0" y="14" className="lane-label">
            {lane.pair}
            {lane.unanswered ? ` ⚠${lane.unanswered}` : ''}
          </text>
          <line x1="130" x2={width - 10} y1="10" y2="10" stroke="#d0d7de" />
          {lane.gaps.map((g) => (
            <rect
              key={g.from}
              x={x(Date.parse(g.from))}
              y="2"
              width={x(Date.parse(g.to)) - x(Date.parse(g.from))}
              height="16"
              fill="#ffd8d8"
            >
              <title>gap over 180 s while traffic flowed: session expired → blocked or plaintext?</title>
            </rect>
          ))}
          {lane.events.map((h, j) => (
            <circle key={j} cx={x(Date.parse(h.time))} cy="10" r="4" fill={colors[h.messageType] ?? '#888'}>
              <title>{`${h.time} ${h.nodeName} ${h.initiatedLocally ? '→' : '←'} ${h.peerNode}: ${h.messageType}${h.roundTripMs !== undefined ? ` (rtt ${h.roundTripMs.toFixed(2)} ms)` : ''}`}</title>
            </circle>
          ))}
        </g>
      ))}
      <text x="130" y={lanes.length * 28 + 20} className="muted-svg">
        ● initiation ● response ● cookie reply (last {Math.round((end - start) / 1000)} s)
      </text>
    </svg>
  );
}

export function EncryptionView() {
  const store = useAppStore();
  const [pair, setPair] = useState<{ from: string; to: string } | undefined>();
  const enc = store.encryption;
  if (!enc)
    return (
      <div className="empty">
        {store.encryptionError ? `Encryption status unavailable: ${store.encryptionError}` : 'Loading…'}
      </div>
    );
  const matrix = coverageMatrix(enc, store.pairs.counts());
  const { leaks, sameNode } = leakTable(store.flows);
  const drift = pair ? driftChecklist(enc, pair.from, pair.to, store.previousEncryption) : undefined;
  return (
    <div className="encryption">
      <section>
        <h2>Coverage (cross-node pod flows, sender → receiver)</h2>
        <table className="matrix" data-testid="coverage-matrix">
          <thead>
            <tr>
              <th>from \ to</th>
              {matrix.nodes.map((n) => (
                <th key={n}>{n}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {matrix.nodes.map((from) => (
              <tr key={from}>
                <th>{from}</th>
                {matrix.nodes.map((to) => {
                  const cell = matrix.cells.get(pairKey(from, to));
                  if (!cell)
                    return (
                      <td key={to} className="cov-self">
                        —
                      </td>
                    );
                  return (
                    <td
                      key={to}
                      className={`${stateClass[cell.state]} clickable`}
                      data-testid="coverage-cell"
                      data-pair={pairKey(from, to)}
                      data-state={cell.state}
                      title={
                        `${cell.encrypted} encrypted, ${cell.plaintext} plaintext flows (recent)\n` +
                        (cell.peer
                          ? `rx ${bytes(cell.peer.rxBytes)} tx ${bytes(cell.peer.txBytes)}, endpoint ${cell.peer.endpoint}`
                          : 'no WireGuard peer')
                      }
                      onClick={() => setPair({ from, to })}
                    >
                      <div className="cov-state">{cell.state}</div>
                      <div className="cov-share">
                        {cell.share !== undefined ? `${Math.round(cell.share * 100)}%` : ''}
                      </div>
                      <div className="muted small">
                        {cell.handshakeAgeMs !== undefined
                          ? `hs ${Math.round(cell.handshakeAgeMs / 1000)} s ago`
                          : 'no handshake'}
                        {cell.roundTripMs !== undefined ? ` • rtt ${cell.roundTripMs.toFixed(1)} ms` : ''}
                        {cell.peer ? ` • ${bytes(cell.peer.txBytes)} out` : ''}
                      </div>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
        {enc.nodes.map((n) => (
          <span key={n.nodeName} className="muted small node-mode">
            {n.nodeName}: {n.implementation || n.mechanism} {n.interface} strict {n.strictMode ? 'on' : 'off'}
            {n.error ? ` — ${n.error}` : ''}
          </span>
        ))}
      </section>
      {pair && drift && (
        <section data-testid="drift">
          <h2>
            {pair.from} → {pair.to}: peer checklist{' '}
            <a
              href={`/flows?filter=node=${pair.from}&filter=peer=${pair.to}&filter=encrypted=false`}
              data-testid="pair-flows"
              onClick={(e) => {
                e.preventDefault();
                store.navigate({
                  screen: 'flows',
                  filters: [`node=${pair.from}`, `peer=${pair.to}`, 'encrypted=false'],
                });
              }}
            >
              plaintext flows of this pair →
            </a>
          </h2>
          <ul className="checklist">
            {drift.map((c) => (
              <li key={c.check} className={c.ok ? 'ok' : 'bad'}>
                {c.ok ? '✔' : '✖'} {c.check} <span className="muted">{c.detail}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h2>WireGuard handshakes</h2>
        <Timeline />
      </section>
      <section>
        <h2>Plaintext leaks (cross-node, unencrypted) — {leaks.length}</h2>
        <table className="list" data-testid="leak-table">
          <thead>
            <tr>
              <th>source → destination:port</th>
              <th>nodes</th>
              <th>flows</th>
              <th>first / last seen</th>
              <th>point</th>
              <th>likely reason</th>
            </tr>
          </thead>
          <tbody>
            {leaks.map((r) => (
              <tr key={r.key}>
                <td>
                  {r.source} → {r.destination}:{r.port}
                </td>
                <td>{r.nodes}</td>
                <td>{r.flows}</td>
                <td>
                  {r.firstSeen.slice(11, 19)} / {r.lastSeen.slice(11, 19)}
                </td>
                <td>{r.point}</td>
                <td>{r.reason}</td>
              </tr>
            ))}
            {!leaks.length && (
              <tr>
                <td colSpan={6} className="muted">
                  No plaintext cross-node flows in the buffer.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        <details>
          <summary>Same-node traffic (never needs WireGuard, not a leak) — {sameNode.length}</summary>
          <ul>
            {sameNode.map((r) => (
              <li key={r.key}>
                {r.source} → {r.destination}:{r.port} on {r.nodes} ({r.flows})
              </li>
            ))}
          </ul>
        </details>
      </section>
      <Charts screen="encryption" />
    </div>
  );
}
