// The charts' geometry and the flows table's columns and sort (synthetic flows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlowView } from '../../shared/flow-fields.js';
import { formatValue, niceTicks, polyline, seriesMax } from './chart.js';
import { columns, nextSort, sortFlows, visibleColumns } from './table.js';

test('charts: round ticks over the data, values in their unit, points inside the plot', () => {
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(niceTicks(100), [0, 25, 50, 75, 100]);
  assert.deepEqual(niceTicks(7), [0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(0.3), [0, 0.1, 0.2, 0.3]);
  for (const max of [3, 17, 999, 12345, 0.042]) {
    const t = niceTicks(max);
    assert.ok(t[t.length - 1]! >= max && t.length <= 6, `${max}: ${t.join()}`);
  }
  assert.equal(formatValue(1536, 'B/s'), '1.5 KiB/s');
  assert.equal(formatValue(0.5, '%'), '0.5%');
  assert.equal(formatValue(97.5, 'B/s'), '97.5 B/s');
  assert.equal(formatValue(5 * 1024 * 1024, 'B/s'), '5 MiB/s');
  assert.equal(formatValue(45, 's'), '45 s');
  assert.equal(formatValue(600, 's'), '10 min');
  assert.equal(formatValue(50, '%'), '50%');
  assert.equal(formatValue(2.5, 'flows/s'), '2.5 flows/s');
  assert.equal(formatValue(1 / 3, 'events/s'), '0.333 events/s');
  const series = [
    {
      name: 'a',
      points: [
        [100, 0],
        [150, 5],
        [200, 10],
      ] as [number, number][],
    },
  ];
  assert.equal(seriesMax(series), 10);
  assert.equal(
    polyline(series[0]!.points, { width: 100, height: 50, start: 100, end: 200 }, 10),
    '0.0,50.0 50.0,25.0 100.0,0.0',
  );
});

test('flows table: columns can be hidden (one always stays), sorted by any column, ties newest first', () => {
  assert.deepEqual(
    visibleColumns(new Set(['tcp-flags', 'point'])).map((c) => c.id),
    columns.map((c) => c.id).filter((id) => id !== 'tcp-flags' && id !== 'point'),
  );
  assert.deepEqual(
    visibleColumns(new Set(columns.map((c) => c.id))).map((c) => c.id),
    ['source'],
  );
  assert.deepEqual(nextSort(undefined, 'verdict'), { column: 'verdict', descending: false });
  assert.deepEqual(nextSort({ column: 'verdict', descending: false }, 'verdict'), {
    column: 'verdict',
    descending: true,
  });
  assert.equal(nextSort({ column: 'verdict', descending: true }, 'verdict'), undefined);
  assert.deepEqual(nextSort({ column: 'verdict', descending: true }, 'node'), {
    column: 'node',
    descending: false,
  });
  // newest first, as the ring gives them
  const f = (uuid: string, verdict: string, port: number, time: string): FlowView => ({
    uuid,
    verdict,
    time,
    l4: { TCP: { destination_port: port } },
  });
  const flows = [
    f('d', 'FORWARDED', 8080, '2026-01-01T00:00:04Z'),
    f('c', 'DROPPED', 53, '2026-01-01T00:00:03Z'),
    f('b', 'FORWARDED', 443, '2026-01-01T00:00:02Z'),
    f('a', 'DROPPED', 9000, '2026-01-01T00:00:01Z'),
  ];
  const ids = (list: FlowView[]) => list.map((x) => x.uuid).join('');
  assert.equal(ids(sortFlows(flows, { column: 'verdict', descending: false })), 'cadb');
  assert.equal(ids(sortFlows(flows, { column: 'verdict', descending: true })), 'dbca');
  assert.equal(
    ids(sortFlows(flows, { column: 'port', descending: false })),
    'cbda',
    'numeric order: 53 < 443 < 8080',
  );
  assert.equal(ids(sortFlows(flows, { column: 'time', descending: false })), 'abcd');
  assert.equal(ids(sortFlows(flows, { column: 'no-such', descending: false })), 'dcba');
});
