import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentFlags, type AgentConfig } from '../config.js';

const base = [
  '--node-name',
  'node1',
  '--underlay-ip',
  '10.77.0.11',
  '--pod-cidr',
  '10.244.1.0/24',
  '--etcd-endpoints',
  'http://10.77.0.254:2379',
];

test('datapath flags: defaults, bpf with strict mode, interval and ring capacity', () => {
  const defaults = parseAgentFlags(base) as AgentConfig;
  assert.deepEqual(defaults.datapath, {
    mode: 'off',
    strict: false,
    aggregationSeconds: 5,
    flowRingCapacity: 4095,
    hubbleListen: [],
  });
  const on = parseAgentFlags([
    ...base,
    '--datapath',
    'bpf',
    '--strict-encryption',
    '--aggregation-interval',
    '10',
    '--flow-ring-capacity',
    '65535',
    '--hubble-listen',
    '0.0.0.0:4244,unix:///run/wirescope/hubble.sock',
  ]) as AgentConfig;
  assert.deepEqual(on.datapath, {
    mode: 'bpf',
    strict: true,
    aggregationSeconds: 10,
    flowRingCapacity: 65535,
    hubbleListen: ['0.0.0.0:4244', 'unix:///run/wirescope/hubble.sock'],
  });
});

test('bad datapath flags are one-line errors naming what is accepted', () => {
  assert.throws(
    () => parseAgentFlags([...base, '--datapath', 'ebpf']),
    /--datapath "ebpf" is not valid; accepted: bpf, off/,
  );
  assert.throws(() => parseAgentFlags([...base, '--flow-ring-capacity', '4096']), /2\^n - 1/);
  assert.throws(
    () => parseAgentFlags([...base, '--aggregation-interval', '0']),
    /--aggregation-interval "0" is not valid/,
  );
  assert.throws(
    () => parseAgentFlags([...base, '--hubble-listen', 'nope']),
    /--hubble-listen entry "nope" is not valid; accepted: host:port/,
  );
});
