import { useState } from 'react';
import { useAppStore } from '../../store/context.js';
import {
  destinationName,
  destinationPort,
  dropReason,
  encryptionLabel,
  protocolOf,
  sourceName,
  tcpFlags,
  type EndpointJson,
  type FlowView,
} from '../../../shared/flow-fields.js';
import { journey } from '../../domain/journey.js';

function Field({
  name,
  value,
  testId,
}: {
  name: string;
  value: string | number | undefined;
  testId?: string;
}) {
  if (value === undefined || value === '') return null;
  return (
    <div className="field" data-testid={testId}>
      <div className="field-name">{name}</div>
      <div className="field-value">{String(value)}</div>
    </div>
  );
}

function endpointFields(prefix: string, ep: EndpointJson | undefined, ip: string | undefined) {
  return (
    <>
      <Field name={`${prefix} pod`} value={ep?.pod_name ? `${ep.namespace}/${ep.pod_name}` : undefined} />
      <Field name={`${prefix} identity`} value={ep?.identity} />
      <Field name={`${prefix} labels`} value={ep?.labels?.join(' ')} />
      <Field name={`${prefix} IP`} value={ip} />
    </>
  );
}

export function FlowDetails({ flow: row }: { flow: FlowView }) {
  const store = useAppStore();
  const [tab, setTab] = useState<'fields' | 'journey' | 'json'>('fields');
  // a live row until the whole flow arrives (or, when no node holds it any more, for good)
  const flow = store.selectedFull ?? row;
  const ext = flow.extensions;
  const steps = tab === 'journey' ? journey(flow, store.flows) : [];
  return (
    <aside className="details" data-testid="flow-details">
      <div className="details-head">
        <strong>
          {sourceName(flow)} → {destinationName(flow)}
        </strong>
        <button onClick={() => store.select(undefined)} data-testid="details-close">
          ✕
        </button>
      </div>
      {!store.selectedFull && (
        <div className="muted" data-testid="details-partial">
          {store.selectedFullError
            ? `Showing the live row's fields: ${store.selectedFullError}`
            : 'Fetching the whole flow…'}
        </div>
      )}
      <div className="tabs">
        {(['fields', 'journey', 'json'] as const).map((t) => (
          <button
            key={t}
            className={tab === t ? 'active' : ''}
            onClick={() => setTab(t)}
            data-testid={`tab-${t}`}
          >
            {t === 'fields' ? 'Flow details' : t === 'journey' ? 'Journey' : 'Raw JSON'}
          </button>
        ))}
      </div>
      {tab === 'fields' && (
        <div className="fields">
          <Field name="Timestamp" value={flow.time} />
          <Field name="Verdict" value={flow.verdict} />
          <Field name="Drop reason" value={dropReason(flow)} />
          <Field name="Encryption" value={encryptionLabel(flow)} testId="detail-encryption" />
          <Field name="Mechanism" value={ext?.mechanism?.replace('MECHANISM_', '').toLowerCase()} />
          <Field name="Peer node" value={ext?.peer_node} testId="detail-peer" />
          <Field name="Peer key" value={ext?.peer_public_key} />
          <Field name="Receiver index" value={ext?.receiver_index} />
          <Field name="Node" value={flow.node_name} />
          <Field name="Interface" value={flow.interface?.name} />
          <Field name="Observation point" value={flow.trace_observation_point} />
          <Field name="Traffic direction" value={flow.traffic_direction} />
          <Field
            name="Event type"
            value={flow.event_type ? `${flow.event_type.type}/${flow.event_type.sub_type}` : undefined}
          />
          <Field name="TCP flags" value={tcpFlags(flow)} />
          {endpointFields('Source', flow.source, flow.IP?.source)}
          {endpointFields('Destination', flow.destination, flow.IP?.destination)}
          <Field
            name="Destination port • protocol"
            value={`${destinationPort(flow) ?? ''} • ${protocolOf(flow)}`}
          />
          <Field
            name="Policies"
            value={[
              ...(flow.egress_allowed_by ?? []).map((p) => `egress allowed by ${p.name}`),
              ...(flow.ingress_allowed_by ?? []).map((p) => `ingress allowed by ${p.name}`),
              ...(flow.egress_denied_by ?? []).map((p) => `egress denied by ${p.name}`),
              ...(flow.ingress_denied_by ?? []).map((p) => `ingress denied by ${p.name}`),
            ].join('; ')}
          />
          <Field name="Summary" value={flow.Summary} />
        </div>
      )}
      {tab === 'journey' && (
        <ol className="journey" data-testid="journey">
          {steps.map((s) => (
            <li key={`${s.node}|${s.point}`}>
              <span className="point">{s.point.toLowerCase().replace(/_/g, '-')}</span> on <b>{s.node}</b>{' '}
              {s.encrypted ? `🔒 → ${s.peer}` : s.peer ? `(peer ${s.peer})` : ''}{' '}
              <span className="muted">{s.verdict}</span>
            </li>
          ))}
          {steps.length <= 1 && <li className="muted">Only this observation is in the buffer.</li>}
        </ol>
      )}
      {tab === 'json' && (
        <pre className="raw-json" data-testid="raw-json">
          {JSON.stringify(flow, null, 2)}
        </pre>
      )}
    </aside>
  );
}
