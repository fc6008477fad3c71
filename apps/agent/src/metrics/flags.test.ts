import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentFlags, type AgentConfig } from '../config.js';
import { AgentError } from '../errors.js';

const base = [
  '--node-name',
  'n1',
  '--underlay-ip',
  '10.77.0.11',
  '--pod-cidr',
  '10.244.1.0/24',
  '--etcd-endpoints',
  'http://10.77.0.2:2379',
];

test('metrics flags: Hubble’s :9965 and its default metric set unless told otherwise', () => {
  const c = parseAgentFlags(base) as AgentConfig;
  assert.deepEqual(c.metrics, {
    listen: ':9965',
    hubbleMetrics: 'flow drop tcp icmp port-distribution flows-to-world policy',
  });
  const d = parseAgentFlags([
    ...base,
    '--hubble-metrics-server',
    '',
    '--hubble-metrics',
    'drop:sourceContext=pod',
  ]) as AgentConfig;
  assert.deepEqual(d.metrics, { listen: '', hubbleMetrics: 'drop:sourceContext=pod' });
  assert.equal(
    (parseAgentFlags([...base, '--hubble-metrics-server', '127.0.0.1:19965']) as AgentConfig).metrics.listen,
    '127.0.0.1:19965',
  );
});

test('metrics flags: a bad address or metric list is refused naming what is accepted', () => {
  const refused = (args: string[], pattern: RegExp) =>
    assert.throws(
      () => parseAgentFlags([...base, ...args]),
      (e: unknown) => e instanceof AgentError && pattern.test(e.message),
    );
  refused(
    ['--hubble-metrics-server', '9965'],
    /--hubble-metrics-server "9965" is not valid; accepted: :PORT/,
  );
  refused(['--hubble-metrics-server', ':70000'], /is not valid/);
  refused(['--hubble-metrics', 'dns'], /--hubble-metrics: hubble metric "dns" needs L7/);
  refused(
    ['--hubble-metrics', 'flow:labelsContext=pod'],
    /--hubble-metrics: invalid labelsContext value: pod/,
  );
});
