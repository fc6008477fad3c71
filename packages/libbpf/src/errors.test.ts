// Error paths: every failure is a BpfError with the right step, code and libbpf's message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { BpfError, BpfObject, liveResources } from './index.js';
import { exitUnlessRoot } from './netns-fixture.js';
import { bpfOutputDir } from '@wirescope/bpf';

exitUnlessRoot();

const OUTPUT = bpfOutputDir;
const PROBE = `${OUTPUT}probe.bpf.o`;
const TESTPROG = `${OUTPUT}testprog.bpf.o`;
let probe: BpfObject;
before(() => (probe = BpfObject.load(PROBE)));
after(() => probe.close());

test('missing object file: step open, ENOENT', () => {
  assert.throws(
    () => BpfObject.open('/nonexistent/wst1.bpf.o'),
    (err: unknown) => {
      assert.ok(err instanceof BpfError);
      assert.deepEqual([err.code, err.errno, err.step], ['ENOENT', 2, 'open']);
      assert.match(err.message, /not found: \/nonexistent\/wst1\.bpf\.o/);
      return true;
    },
  );
});

test('a file that is not an ELF object: step open, libbpf message kept', () => {
  assert.throws(
    () => BpfObject.open(fileURLToPath(import.meta.url)),
    (err: unknown) => {
      assert.ok(err instanceof BpfError);
      assert.equal(err.step, 'open');
      assert.ok(err.errno > 0);
      assert.match(err.log, /libbpf: /);
      return true;
    },
  );
});

test('unknown program, map and global: ERR_NOT_FOUND naming what exists', () => {
  assert.throws(() => probe.program('nope'), {
    name: 'BpfError',
    code: 'ERR_NOT_FOUND',
    step: 'program',
    message: /no program 'nope'.*programs: probe_ingress, probe_egress/,
  });
  assert.throws(() => probe.attachTc('nope', { ifname: 'lo', direction: 'ingress' }), {
    code: 'ERR_NOT_FOUND',
    step: 'attach-tc',
  });
  assert.throws(() => probe.map('nope'), {
    code: 'ERR_NOT_FOUND',
    step: 'map',
    message: /maps: events, lost_events/,
  });
  assert.throws(() => BpfObject.open(PROBE, { rodata: { nope: 1 } }), {
    code: 'ERR_NOT_FOUND',
    step: 'rodata',
    message: /probe_family_mask/,
  });
});

test('attach to a missing interface: step attach-tc, ENODEV', () => {
  assert.throws(() => probe.attachTc('probe_ingress', { ifname: 'wst1-missing', direction: 'ingress' }), {
    name: 'BpfError',
    code: 'ENODEV',
    step: 'attach-tc',
    message: /no interface named wst1-missing/,
  });
  assert.throws(() => probe.attachTc('probe_ingress', { ifindex: 999999, direction: 'egress' }), {
    code: 'ENODEV',
    step: 'attach-tc',
  });
  assert.throws(
    () => probe.attachTc('probe_ingress', { ifname: 'lo', direction: 'egress', netns: 'wst1-no-such-ns' }),
    {
      code: 'ENOENT',
      step: 'attach-tc',
      message: /network namespace \/run\/netns\/wst1-no-such-ns/,
    },
  );
  assert.equal(liveResources().tcLinks, 0);
});

test('verifier rejection: step load, the verifier log travels with the error', () => {
  assert.throws(
    () => BpfObject.load(TESTPROG, { autoload: { rejected_by_verifier: true } }),
    (err: unknown) => {
      assert.ok(err instanceof BpfError);
      assert.equal(err.step, 'load');
      assert.equal(err.code, 'EACCES');
      assert.match(err.log, /rejected_by_verifier/);
      assert.match(err.log, /invalid (mem access|access to packet)|R\d+ invalid/);
      return true;
    },
  );
});

test('bad arguments are typed errors, never crashes', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => BpfObject.open(42 as unknown as string), /object path must be a non-empty string, got 42/],
    [() => BpfObject.open(PROBE, { rodata: { probe_family_mask: 300 } }), /does not fit in 1 bytes/],
    [
      () => BpfObject.open(PROBE, { rodata: { probe_family_mask: 'x' as unknown as number } }),
      /must be an integer, bigint, boolean or Buffer/,
    ],
    [() => BpfObject.open(PROBE, { maxEntries: { events: -1 } }), /maxEntries.events must be an integer/],
    [
      () => probe.attachTc('probe_ingress', { ifname: 'lo', direction: 'sideways' as never }),
      /direction must be 'ingress' or 'egress'/,
    ],
    [() => probe.attachTc('probe_ingress', { direction: 'ingress' }), /exactly one of ifname or ifindex/],
    [
      () => probe.attachTc('probe_ingress', { ifindex: -3, direction: 'ingress' }),
      /ifindex must be an integer/,
    ],
    [
      () => probe.attachTc('probe_ingress', { ifname: 'lo', direction: 'ingress', netns: '../x' }),
      /netns must be a name/,
    ],
    [() => probe.testRun('probe_ingress', 'packet' as unknown as Buffer), /packet must be a Buffer/],
    [() => probe.testRun('probe_ingress', Buffer.alloc(64), -1), /repeat must be an integer/],
    [() => probe.openRingBuffer('lost_events', () => {}), /not a ringbuf/],
    [() => probe.openRingBuffer('events', () => {}, { batchBytes: -5 }), /batchBytes must be an integer/],
    [() => probe.openRingBuffer('events', 'cb' as never), /onBatch must be a function/],
  ];
  for (const [call, message] of bad) {
    assert.throws(call, (err: unknown) => {
      assert.ok(err instanceof BpfError, `${String(err)} is a BpfError`);
      assert.equal(err.code, 'ERR_INVALID_ARG');
      assert.equal(err.step, 'args');
      assert.match(err.message, message);
      return true;
    });
  }
});

test('a too-short packet for testRun is the kernel saying EINVAL, step test-run', () => {
  assert.throws(() => probe.testRun('probe_ingress', Buffer.alloc(4)), {
    name: 'BpfError',
    code: 'EINVAL',
    step: 'test-run',
  });
});

test('closed objects: every call is ERR_CLOSED; close() twice is fine', () => {
  const o = BpfObject.load(PROBE);
  const map = o.map('events');
  const program = o.program('probe_ingress');
  o.close();
  o.close();
  assert.equal(o.closed, true);
  assert.throws(() => o.program('probe_ingress'), { code: 'ERR_CLOSED', step: 'program' });
  assert.throws(() => o.map('events'), { code: 'ERR_CLOSED' });
  assert.throws(() => map.fd, { code: 'ERR_CLOSED', step: 'map' });
  assert.throws(() => program.testRun(Buffer.alloc(64)), { code: 'ERR_CLOSED', step: 'test-run' });
  assert.throws(() => o.attachTc('probe_ingress', { ifname: 'lo', direction: 'ingress' }), {
    code: 'ERR_CLOSED',
  });
  assert.throws(() => o.load(), { code: 'ERR_CLOSED', step: 'load' });
});

test('load twice and fd before load: ERR_ALREADY_LOADED / ERR_NOT_LOADED', () => {
  assert.throws(() => probe.load(), { code: 'ERR_ALREADY_LOADED' });
  const o = BpfObject.open(PROBE);
  try {
    assert.throws(() => o.program('probe_ingress').fd, { code: 'ERR_NOT_LOADED' });
    assert.throws(() => o.map('events'), { code: 'ERR_NOT_LOADED' });
  } finally {
    o.close();
  }
});
