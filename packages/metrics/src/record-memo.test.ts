// The live path's records go through HubbleFlowMetrics' memo (observeRecord); every series must
// count exactly what the Flow message path counts for the same flows. Replayed recorded flows
// (packages/flow testdata), turned into records whose endpoints are shared as enrich shares them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRecordedRecords, recordToFlow } from '@wirescope/flow';
import { NodeMetrics } from './node-metrics.js';
import { SyntheticNodeState } from './test-support/synthetic.js';

const EVERY_PLUGIN =
  'flow:sourceContext=pod|ip;destinationContext=workload|dns drop:labelsContext=source_namespace,source_pod,destination_ip,traffic_direction ' +
  'tcp:destinationContext=pod icmp port-distribution flows-to-world:port;any-drop policy';

const replayedRecords = loadRecordedRecords;

const hubbleSeries = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.startsWith('hubble_') && !l.startsWith('hubble_lost_events_total'))
    .sort();

for (const hubbleMetrics of [EVERY_PLUGIN, 'flow drop tcp icmp port-distribution flows-to-world policy']) {
  test(`records counted through the memo equal the message path (${hubbleMetrics.slice(0, 40)}…)`, async () => {
    const records = replayedRecords();
    assert.ok(records.length > 100);
    const byMessage = new Metrics(hubbleMetrics);
    const byRecord = new Metrics(hubbleMetrics);
    let built = 0;
    // three passes, with a scrape between them: counts carry across scrapes, repeats hit the memo
    for (let pass = 0; pass < 3; pass++) {
      for (const r of records) {
        byMessage.node.observeFlow(recordToFlow(r));
        byRecord.node.observeFlowRecord(r, () => (built++, recordToFlow(r)));
      }
      assert.deepEqual(hubbleSeries(await byRecord.scrape()), hubbleSeries(await byMessage.scrape()));
    }
    assert.ok(built < records.length, `the memo built ${built} messages for ${records.length * 3} records`);
    byMessage.node.stop();
    byRecord.node.stop();
  });
}

test('a removed pod forgets the memo: later flows of other pods still count', async () => {
  const records = replayedRecords();
  const m = new Metrics(EVERY_PLUGIN);
  const reference = new Metrics(EVERY_PLUGIN);
  for (const r of records) {
    m.node.observeFlowRecord(r, () => recordToFlow(r));
    reference.node.observeFlow(recordToFlow(r));
  }
  const pod = records.find((r) => r.source?.message.podName)!.source!.message;
  m.node.removePodSeriesNow(pod.namespace, pod.podName);
  reference.node.removePodSeriesNow(pod.namespace, pod.podName);
  for (const r of records) {
    m.node.observeFlowRecord(r, () => recordToFlow(r));
    reference.node.observeFlow(recordToFlow(r));
  }
  assert.deepEqual(hubbleSeries(await m.scrape()), hubbleSeries(await reference.scrape()));
  m.node.stop();
  reference.node.stop();
});

class Metrics {
  readonly node: NodeMetrics;
  constructor(hubbleMetrics: string) {
    this.node = new NodeMetrics(new SyntheticNodeState(), { hubbleMetrics });
  }
  async scrape(): Promise<string> {
    return (await this.node.scrape()).body;
  }
}
