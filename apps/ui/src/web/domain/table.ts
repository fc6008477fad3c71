// The flows table's columns (Hubble UI's plus Encryption, Node and Drop reason), which of them
// show, and a sort by any of them (newest first when none is chosen).
import {
  destinationName,
  destinationPort,
  dropReason,
  encryptionLabel,
  protocolOf,
  sourceName,
  tcpFlags,
  type FlowView,
} from '../../shared/flow-fields.js';

export interface Column {
  id: string;
  title: string;
  width: number;
  value(f: FlowView): string;
}

export const columns: Column[] = [
  { id: 'source', title: 'Source', width: 190, value: sourceName },
  { id: 'destination', title: 'Destination', width: 190, value: destinationName },
  { id: 'port', title: 'Port', width: 70, value: (f) => `${destinationPort(f) ?? ''} ${protocolOf(f)}` },
  { id: 'verdict', title: 'Verdict', width: 96, value: (f) => f.verdict ?? '' },
  { id: 'encryption', title: 'Encryption', width: 170, value: encryptionLabel },
  { id: 'node', title: 'Node', width: 70, value: (f) => f.node_name ?? '' },
  {
    id: 'point',
    title: 'Point',
    width: 120,
    value: (f) => (f.trace_observation_point ?? '').toLowerCase().replace(/_/g, '-'),
  },
  { id: 'drop-reason', title: 'Drop reason', width: 150, value: dropReason },
  { id: 'tcp-flags', title: 'TCP flags', width: 80, value: tcpFlags },
  {
    id: 'time',
    title: 'Timestamp',
    width: 110,
    value: (f) => (f.time ? new Date(f.time).toISOString().slice(11, 23) : ''),
  },
];

export interface SortOrder {
  column: string;
  descending: boolean;
}

/** The visible columns, in their order; an unknown id in `hidden` is ignored. */
export function visibleColumns(hidden: ReadonlySet<string>): Column[] {
  const shown = columns.filter((c) => !hidden.has(c.id));
  // the table keeps at least one column
  return shown.length ? shown : columns.slice(0, 1);
}

/** Clicking a header: ascending, then descending, then back to newest first. */
export function nextSort(current: SortOrder | undefined, column: string): SortOrder | undefined {
  if (current?.column !== column) return { column, descending: false };
  return current.descending ? undefined : { column, descending: true };
}

/**
 * `flows` (newest first) ordered by a column's text; equal values keep newest first. Each value is
 * computed once, not per comparison (10,000 rows sort in milliseconds).
 */
export function sortFlows(flows: Iterable<FlowView>, order: SortOrder): FlowView[] {
  const column = columns.find((c) => c.id === order.column);
  const list = [...flows];
  if (!column) return list;
  const keyed = list.map((f, i) => ({ f, i, key: column.value(f) }));
  const sign = order.descending ? -1 : 1;
  const time = column.id === 'time';
  keyed.sort((a, b) => {
    const c = time
      ? Date.parse(a.f.time ?? '') - Date.parse(b.f.time ?? '')
      : a.key.localeCompare(b.key, undefined, { numeric: true });
    return c * sign || a.i - b.i;
  });
  return keyed.map((k) => k.f);
}
