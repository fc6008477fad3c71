// CSV export of flows: one row per flow, the flow table's columns.
import {
  asFlow,
  destinationName,
  destinationPort,
  dropReason,
  encryptionLabel,
  protocolOf,
  sourceName,
  tcpFlags,
} from '../shared/flow-fields.js';

export const csvColumns = [
  'time',
  'node',
  'source',
  'source_ip',
  'destination',
  'destination_ip',
  'destination_port',
  'protocol',
  'verdict',
  'drop_reason',
  'encryption',
  'observation_point',
  'tcp_flags',
] as const;

function cell(value: string | number | undefined): string {
  const text = value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function flowsCsv(flows: readonly unknown[]): string {
  const rows = [csvColumns.join(',')];
  for (const raw of flows) {
    const f = asFlow(raw);
    rows.push(
      [
        f.time,
        f.node_name,
        sourceName(f),
        f.IP?.source,
        destinationName(f),
        f.IP?.destination,
        destinationPort(f),
        protocolOf(f),
        f.verdict,
        dropReason(f),
        encryptionLabel(f),
        f.trace_observation_point,
        tcpFlags(f),
      ]
        .map(cell)
        .join(','),
    );
  }
  return rows.join('\n') + '\n';
}
