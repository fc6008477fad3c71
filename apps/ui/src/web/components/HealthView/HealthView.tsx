import { useAppStore } from '../../store/context.js';
import { Charts } from '../Charts/Charts.js';

export function HealthView() {
  const store = useAppStore();
  const s = store.status;
  if (!s) return <div className="empty">{store.statusError ?? 'Waiting for the relay status…'}</div>;
  const fill = s.relay.maxFlows ? Math.round((s.relay.numFlows / s.relay.maxFlows) * 100) : 0;
  return (
    <div className="health" data-testid="health">
      <section>
        <h2>Relay {s.relay.address}</h2>
        <p>
          {s.relay.version} • up {Math.round(s.relay.uptimeSeconds)} s • {s.relay.flowsRate.toFixed(1)}{' '}
          flows/s • flows {s.relay.numFlows}/{s.relay.maxFlows} ({fill}%) • seen {s.relay.seenFlows}
        </p>
        <p>
          Connected nodes {s.connectedNodes}/{s.nodes.length}
          {s.unavailableNodes.length ? ` • unavailable: ${s.unavailableNodes.join(', ')}` : ''} • lost events
          in this session {store.lost} • skipped by this browser {store.skipped}
        </p>
      </section>
      <table className="list" data-testid="nodes-table">
        <thead>
          <tr>
            <th>node</th>
            <th>state</th>
            <th>address</th>
            <th>ring fill</th>
            <th>seen flows</th>
            <th>uptime</th>
          </tr>
        </thead>
        <tbody>
          {s.nodes.map((n) => (
            <tr key={n.name} className={n.state === 'NODE_CONNECTED' ? '' : 'bad'}>
              <td>{n.name}</td>
              <td>{n.state.replace('NODE_', '').toLowerCase()}</td>
              <td>{n.address}</td>
              <td>
                {n.maxFlows
                  ? `${n.numFlows}/${n.maxFlows} (${Math.round((n.numFlows / n.maxFlows) * 100)}%)`
                  : ''}
              </td>
              <td>{n.seenFlows}</td>
              <td>{Math.round(n.uptimeSeconds)} s</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Charts screen="health" />
    </div>
  );
}
