import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropReason, TrafficDirection, Verdict } from '@wirescope/flow';
import { NodeMetrics } from './node-metrics.js';
import { MetricsError, MetricsErrorCode } from './errors.js';
import { parseHubbleMetrics } from './hubble-flag.js';
import { icmpTypeName } from './flow-labels.js';
import { SyntheticNodeState, parseExposition, syntheticFlow } from './test-support/synthetic.js';

async function samples(m: NodeMetrics, name: string) {
  return parseExposition((await m.scrape()).body).filter((s) => s.name === name);
}

test('flag: plugins, options, contexts parsed; bad entries refused with what is accepted', () => {
  const specs = parseHubbleMetrics(
    'flow:sourceContext=pod|ip;destinationContext=pod  drop tcp flows-to-world:port;any-drop',
  );
  assert.deepEqual(
    specs.map((s) => s.plugin),
    ['flow', 'drop', 'tcp', 'flows-to-world'],
  );
  assert.deepEqual(specs[0]!.context.get('sourceContext'), ['pod|ip']);
  assert.deepEqual([...specs[3]!.flags].sort(), ['any-drop', 'port']);
  const refused = (text: string, code: string, pattern: RegExp) =>
    assert.throws(
      () => new NodeMetrics(new SyntheticNodeState(), { hubbleMetrics: text }),
      (err: unknown) => err instanceof MetricsError && err.code === code && pattern.test(err.message),
    );
  refused(
    'flows',
    MetricsErrorCode.INVALID_METRICS_FLAG,
    /unknown hubble metric "flows"; accepted: flow, drop/,
  );
  refused('httpV2:exemplars=true', MetricsErrorCode.UNSUPPORTED_PLUGIN, /needs L7/);
  refused(
    'flow:sourceContext=pods',
    MetricsErrorCode.INVALID_METRICS_FLAG,
    /invalid sourceContext value: pods; accepted: identity/,
  );
  refused(
    'drop:labelsContext=source_host',
    MetricsErrorCode.INVALID_METRICS_FLAG,
    /invalid labelsContext value: source_host/,
  );
  refused('tcp:port', MetricsErrorCode.INVALID_METRICS_FLAG, /unknown option "port"/);
  refused('tcp tcp', MetricsErrorCode.INVALID_METRICS_FLAG, /listed twice/);
  refused('flow:sourceContext', MetricsErrorCode.INVALID_METRICS_FLAG, /needs a value/);
});

test('flows processed, drops, TCP flags, ICMP and ports carry Cilium label values (synthetic flows)', async () => {
  const m = new NodeMetrics(new SyntheticNodeState(), {
    hubbleMetrics: 'flow drop tcp icmp port-distribution',
  });
  m.observeFlow(syntheticFlow({ tcp: { dport: 80, flags: { SYN: true } }, isReply: false }));
  m.observeFlow(syntheticFlow({ tcp: { dport: 80, flags: { SYN: true } }, isReply: false }));
  m.observeFlow(
    syntheticFlow({ tcp: { dport: 40000, flags: { SYN: true, ACK: true } }, isReply: true, trace: 0 }),
  );
  m.observeFlow(syntheticFlow({ tcp: { dport: 80, flags: { FIN: true, ACK: true } } })); // is_reply unknown
  m.observeFlow(syntheticFlow({ udp: { dport: 9 }, drop: DropReason.UNENCRYPTED_TRAFFIC }));
  m.observeFlow(syntheticFlow({ icmp: { type: 3, code: 3 }, drop: DropReason.POLICY_DENIED }));
  m.observeFlow(syntheticFlow({ icmp: { type: 128, code: 0, v6: true }, isReply: false }));
  m.observeFlow(syntheticFlow({ verdict: Verdict.FORWARDED, trace: 99 }));

  const flows = await samples(m, 'hubble_flows_processed_total');
  const flowKey = (s: { labels: Record<string, string>; value: number }) =>
    `${s.labels.protocol}|${s.labels.type}|${s.labels.subtype}|${s.labels.verdict}=${s.value}`;
  assert.deepEqual(flows.map(flowKey).sort(), [
    'ICMPv4|Drop||DROPPED=1',
    'ICMPv6|Trace|from-endpoint|FORWARDED=1',
    'TCP|Trace|from-endpoint|FORWARDED=3',
    'TCP|Trace|to-endpoint|FORWARDED=1',
    'UDP|Drop||DROPPED=1',
    'Unknown L4|Trace||FORWARDED=1',
  ]);
  const drops = await samples(m, 'hubble_drop_total');
  assert.deepEqual(drops.map((s) => `${s.labels.reason}|${s.labels.protocol}=${s.value}`).sort(), [
    'POLICY_DENIED|ICMPv4=1',
    'UNENCRYPTED_TRAFFIC|UDP=1',
  ]);
  const flags = await samples(m, 'hubble_tcp_flags_total');
  assert.deepEqual(flags.map((s) => `${s.labels.flag}|${s.labels.family}=${s.value}`).sort(), [
    'FIN|IPv4=1',
    'SYN-ACK|IPv4=1',
    'SYN|IPv4=2',
  ]);
  const icmp = await samples(m, 'hubble_icmp_total');
  assert.deepEqual(icmp.map((s) => `${s.labels.family}|${s.labels.type}=${s.value}`).sort(), [
    'IPv4|DestinationUnreachable(Port)=1',
    'IPv6|EchoRequest=1',
  ]);
  // replies and unknown is_reply are skipped; ICMP's port is "0"
  const ports = await samples(m, 'hubble_port_distribution_total');
  assert.deepEqual(ports.map((s) => `${s.labels.protocol}|${s.labels.port}=${s.value}`).sort(), [
    'ICMPv6|0=1',
    'TCP|80=2',
  ]);
  m.stop();
});

test('ICMP type names follow gopacket, including its fallbacks', () => {
  assert.equal(icmpTypeName('IPv4', 0, 0), 'EchoReply');
  assert.equal(icmpTypeName('IPv4', 11, 0), 'TimeExceeded(TTLExceeded)');
  assert.equal(icmpTypeName('IPv4', 3, 4), 'DestinationUnreachable(FragmentationNeeded)');
  assert.equal(icmpTypeName('IPv4', 8, 1), 'EchoRequest(Code: 1)');
  assert.equal(icmpTypeName('IPv4', 3, 99), 'DestinationUnreachable(Code: 99)');
  assert.equal(icmpTypeName('IPv6', 1, 4), 'DestinationUnreachable(PortUnreachable)');
  assert.equal(icmpTypeName('IPv6', 130, 0), '130(0)');
});

test('flows to world: policy drops only unless any-drop, replies skipped, port on request', async () => {
  const world = { ns: '', pod: '', ip: '1.1.1.1', labels: ['reserved:world'] };
  const m = new NodeMetrics(new SyntheticNodeState(), { hubbleMetrics: 'flows-to-world:port' });
  m.observeFlow(syntheticFlow({ tcp: { dport: 443, flags: { SYN: true } }, dst: world, isReply: false }));
  m.observeFlow(syntheticFlow({ tcp: { dport: 443 }, dst: world, isReply: true }));
  m.observeFlow(syntheticFlow({ udp: { dport: 53 }, dst: world, drop: DropReason.POLICY_DENIED }));
  m.observeFlow(syntheticFlow({ udp: { dport: 53 }, dst: world, drop: DropReason.UNENCRYPTED_TRAFFIC }));
  m.observeFlow(syntheticFlow({ tcp: { dport: 80 } })); // not to world
  const got = await samples(m, 'hubble_flows_to_world_total');
  assert.deepEqual(
    got.map((s) => `${s.labels.protocol}|${s.labels.verdict}|${s.labels.port}=${s.value}`).sort(),
    ['TCP|FORWARDED|443=1', 'UDP|DROPPED|53=1'],
  );
  const anyDrop = new NodeMetrics(new SyntheticNodeState(), {
    hubbleMetrics: 'flows-to-world:any-drop;syn-only',
  });
  anyDrop.observeFlow(
    syntheticFlow({ udp: { dport: 53 }, dst: world, drop: DropReason.UNENCRYPTED_TRAFFIC }),
  );
  anyDrop.observeFlow(
    syntheticFlow({ tcp: { dport: 443, flags: { SYN: true } }, dst: world, isReply: false }),
  );
  anyDrop.observeFlow(
    syntheticFlow({ tcp: { dport: 443, flags: { ACK: true } }, dst: world, isReply: false }),
  );
  const got2 = await samples(anyDrop, 'hubble_flows_to_world_total');
  assert.deepEqual(got2.map((s) => `${s.labels.protocol}|${s.labels.verdict}=${s.value}`).sort(), [
    'TCP|FORWARDED=1',
  ]);
});

test('context options: label names in Cilium order, values per identifier, direction variants', async () => {
  const m = new NodeMetrics(new SyntheticNodeState(), {
    hubbleMetrics:
      'flow:sourceContext=workload-name|pod;sourceIngressContext=ip;destinationContext=app;labelsContext=traffic_direction,source_namespace,destination_workload_kind drop:sourceContext=namespace',
  });
  const src = {
    ns: 'shop',
    pod: 'web-7d9',
    ip: '10.244.1.5',
    labels: ['k8s:app=web'],
    workload: ['web', 'Deployment'] as [string, string],
  };
  const dst = {
    ns: 'shop',
    pod: 'db-0',
    ip: '10.244.2.6',
    labels: ['k8s:app.kubernetes.io/name=postgres', 'k8s:app=db'],
    workload: ['db', 'StatefulSet'] as [string, string],
  };
  m.observeFlow(syntheticFlow({ tcp: { dport: 5432 }, src, dst }));
  m.observeFlow(syntheticFlow({ tcp: { dport: 5432 }, src, dst, direction: TrafficDirection.INGRESS }));
  m.observeFlow(
    syntheticFlow({
      udp: { dport: 9 },
      src: { ...src, workload: undefined } as never,
      dst,
      drop: DropReason.POLICY_DENIED,
    }),
  );
  const body = (await m.scrape()).body;
  const line = body
    .split('\n')
    .find((l) => l.startsWith('hubble_flows_processed_total{') && l.includes('egress'));
  assert.ok(line);
  const names = [...line.matchAll(/([a-z_]+)="/g)].map((x) => x[1]);
  assert.deepEqual(names, [
    'protocol',
    'type',
    'subtype',
    'verdict',
    'source_namespace',
    'destination_workload_kind',
    'traffic_direction',
    'source',
    'destination',
  ]);
  const flows = parseExposition(body).filter((s) => s.name === 'hubble_flows_processed_total');
  assert.deepEqual(
    flows
      .map(
        (s) =>
          `${s.labels.traffic_direction}|${s.labels.source}|${s.labels.destination}|${s.labels.destination_workload_kind}`,
      )
      .sort(),
    // the drop's source has no workload: the next alternative (pod) gives the value
    [
      'egress|shop/web-7d9|postgres|StatefulSet',
      'egress|web|postgres|StatefulSet',
      'ingress|10.244.1.5|postgres|StatefulSet',
    ],
  );
  const drop = body.split('\n').find((l) => l.startsWith('hubble_drop_total{'));
  assert.equal(drop, 'hubble_drop_total{source="shop",reason="POLICY_DENIED",protocol="UDP"} 1');
  m.stop();
});

test('a deleted pod: its series go (pod context, or both namespace and pod labels), others stay', async () => {
  const m = new NodeMetrics(new SyntheticNodeState(), {
    hubbleMetrics:
      'flow:sourceContext=pod;destinationContext=pod drop:labelsContext=source_namespace,source_pod tcp:sourceContext=ip',
  });
  const gone = { ns: 'default', pod: 'gone-1', ip: '10.244.1.9' };
  m.observeFlow(syntheticFlow({ tcp: { dport: 80, flags: { SYN: true } }, src: gone }));
  m.observeFlow(syntheticFlow({ udp: { dport: 9 }, src: gone, drop: DropReason.POLICY_DENIED }));
  m.observeFlow(syntheticFlow({ tcp: { dport: 80 } }));
  assert.equal(m.removePodSeriesNow('default', 'gone-1'), 3); // two flow series, one drop series
  const body = (await m.scrape()).body;
  assert.doesNotMatch(body, /gone-1/);
  assert.match(body, /hubble_flows_processed_total\{.*source="default\/client-1"/);
  // ip context is never cleaned up, as in Cilium
  assert.match(body, /hubble_tcp_flags_total\{flag="SYN",family="IPv4",source="10.244.1.9"\} 1/);
  m.stop();
});

test('lost events: kernel ring and observer queue totals become hubble_lost_events_total increments', async () => {
  const state = new SyntheticNodeState();
  const m = new NodeMetrics(state, { hubbleMetrics: 'flow' });
  const lost = async () =>
    Object.fromEntries((await samples(m, 'hubble_lost_events_total')).map((s) => [s.labels.source, s.value]));
  assert.deepEqual(await lost(), { perf_event_ring_buffer: 2, observer_events_queue: 5 });
  state.ringState = { ...state.ringState, lost: { kernelRing: 7, decode: 1, observerQueue: 5 } };
  assert.deepEqual(await lost(), { perf_event_ring_buffer: 7, observer_events_queue: 5 });
  const none = new NodeMetrics(state, { hubbleMetrics: '' });
  assert.equal((await none.scrape()).body.includes('hubble_'), false);
});
