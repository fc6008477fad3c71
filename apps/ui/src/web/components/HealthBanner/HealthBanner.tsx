import { useAppStore } from '../../store/context.js';

/** Shown while the relay reports a node unavailable (the status is pushed every second). */
export function HealthBanner() {
  const store = useAppStore();
  const nodes = store.unavailableNodes;
  if (store.statusError)
    return (
      <div className="banner error" data-testid="relay-banner" role="alert">
        Relay unreachable: {store.statusError}
      </div>
    );
  if (!nodes.length) return null;
  return (
    <div className="banner warn" data-testid="node-banner" role="alert">
      {nodes.length === 1 ? 'Node' : 'Nodes'} unavailable: {nodes.join(', ')} — their flows are missing until
      they reconnect.
    </div>
  );
}
