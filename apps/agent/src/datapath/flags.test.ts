import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentFlags, type AgentConfig } from '../config.js';
import { requiredAgentFlags } from '../required-flags.test.js';

const base = requiredAgentFlags;

test('datapath flags: defaults, bpf with strict mode, interval and ring capacity', () => {
  const defaults = parseAgentFlags(base) as AgentConfig;
  assert.deepEqual(defaults.datapath, {
    mode: 'off',
    tcAttach: 'auto',
    bpfRoot: '/sys/fs/bpf',
    strict: false,
    policyAuditMode: false,
    aggregationSeconds: 5,
    eventBatchWaitMs: 10,
    flowRingCapacity: 65535,
    hubbleListen: [],
  });
  const on = parseAgentFlags([
    ...base,
    '--datapath',
    'bpf',
    '--strict-encryption',
    '--aggregation-interval',
    '10',
    '--event-batch-wait',
    '0',
    '--flow-buffer-capacity',
    '1023',
    '--hubble-listen',
    '0.0.0.0:4244,unix:///run/wirescope/hubble.sock',
    '--tc-attach',
    'filter',
    '--bpf-root',
    '/run/wirescope/bpffs',
  ]) as AgentConfig;
  assert.deepEqual(on.datapath, {
    mode: 'bpf',
    tcAttach: 'filter',
    bpfRoot: '/run/wirescope/bpffs',
    strict: true,
    policyAuditMode: false,
    aggregationSeconds: 10,
    eventBatchWaitMs: 0,
    flowRingCapacity: 1023,
    hubbleListen: ['0.0.0.0:4244', 'unix:///run/wirescope/hubble.sock'],
  });
});

test('bad datapath flags are one-line errors naming what is accepted', () => {
  assert.throws(
    () => parseAgentFlags([...base, '--datapath', 'ebpf']),
    /--datapath "ebpf" is not valid; accepted: bpf, off/,
  );
  assert.throws(
    () => parseAgentFlags([...base, '--flow-buffer-capacity', '4096']),
    /--flow-buffer-capacity: 4096 is not a valid flow ring capacity; accepted: 2\^n - 1 from 1 to 16777215/,
  );
  assert.throws(
    () => parseAgentFlags([...base, '--flow-buffer-capacity', '64k']),
    /--flow-buffer-capacity: 64k is not an integer/,
  );
  assert.throws(
    () => parseAgentFlags([...base, '--aggregation-interval', '0']),
    /--aggregation-interval "0" is not valid/,
  );
  assert.throws(
    () => parseAgentFlags([...base, '--tc-attach', 'xdp']),
    /--tc-attach "xdp" is not valid; accepted: auto, tcx, filter/,
  );
  assert.throws(
    () => parseAgentFlags([...base, '--bpf-root', 'bpffs']),
    /--bpf-root "bpffs" is not valid; it must be an absolute path/,
  );
  assert.throws(
    () => parseAgentFlags([...base, '--hubble-listen', 'nope']),
    /--hubble-listen entry "nope" is not valid; accepted: host:port/,
  );
});
