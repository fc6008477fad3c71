// The charts the UI draws from the lab's Prometheus: a fixed set (the server holds their PromQL;
// a browser cannot send its own), and the screen each belongs to.
export const charts = {
  'flows-by-verdict': { screen: 'drops', title: 'Flows/s by verdict', unit: 'flows/s' },
  'drops-by-reason': { screen: 'drops', title: 'Drops/s by reason', unit: 'drops/s' },
  'encrypted-bytes': {
    screen: 'encryption',
    title: 'Cross-node pod bytes/s per pair: encrypted vs plaintext',
    unit: 'B/s',
  },
  'handshake-age': { screen: 'encryption', title: 'WireGuard handshake age per pair', unit: 's' },
  'lost-events': { screen: 'health', title: 'Lost events/s per node and stage', unit: 'events/s' },
  'ring-fill': { screen: 'health', title: 'Flow ring fill per node', unit: '%' },
} as const;

export type ChartId = keyof typeof charts;
export const chartIds = Object.keys(charts) as ChartId[];

/** Time ranges a chart may span. */
export const chartRanges = ['5m', '15m', '1h', '6h'] as const;
export type ChartRange = (typeof chartRanges)[number];

export function chartsOf(screen: string): ChartId[] {
  return chartIds.filter((id) => charts[id].screen === screen);
}
