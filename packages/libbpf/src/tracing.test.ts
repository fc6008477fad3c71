// Tracing attach through bpf_program__attach: tp_btf and raw_tp count this process's umask(2)
// calls; so does a tracepoint (tracefs mounted for the test when the machine has none); fentry/fexit
// either work or fail with a typed error naming the step.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfError, BpfObject, TRACE_FS, ensureTraceFs, isMounted, unmountIfMountedNow } from './index.js';
import { exitUnlessRoot } from './netns-fixture.js';
import { bpfObject } from '@wirescope/bpf';

exitUnlessRoot();

const TESTPROG = bpfObject('testprog');
const SLOT = { tpBtf: 0, rawTp: 1, fentry: 2, fexit: 3, tracepoint: 4 };
const objects: BpfObject[] = [];
after(() => objects.forEach((o) => o.close()));

function slotKey(slot: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(slot);
  return b;
}

function hits(obj: BpfObject, slot: number): bigint {
  return obj.map('hits').lookup(slotKey(slot))?.readBigUInt64LE() ?? -1n;
}

function umaskCalls(n: number): void {
  for (let i = 0; i < n; i++) process.umask(process.umask(0o022));
}

test('tp_btf and raw_tp attach, count exactly our calls, and stop after detach', () => {
  const obj = BpfObject.load(TESTPROG, { rodata: { trace_tgid: process.pid } });
  objects.push(obj);
  const tpBtf = obj.attach('count_sys_enter');
  const rawTp = obj.program('count_raw_sys_enter').attach();
  umaskCalls(5); // 10 umask(2) calls
  assert.equal(hits(obj, SLOT.tpBtf), 10n);
  assert.equal(hits(obj, SLOT.rawTp), 10n);
  tpBtf.detach();
  tpBtf.detach();
  umaskCalls(1);
  assert.equal(hits(obj, SLOT.tpBtf), 10n);
  assert.equal(hits(obj, SLOT.rawTp), 12n);
  rawTp.detach();
  umaskCalls(1);
  assert.equal(hits(obj, SLOT.rawTp), 12n);
});

test('fentry/fexit: attach and count where the kernel has trampolines, else a load error', () => {
  let obj: BpfObject;
  try {
    obj = BpfObject.load(TESTPROG, {
      rodata: { trace_tgid: process.pid },
      autoload: { count_umask_entry: true, count_umask_exit: true },
    });
  } catch (err) {
    // kernels without ftrace direct calls refuse fentry programs at load time
    assert.ok(err instanceof BpfError);
    assert.equal(err.step, 'load');
    assert.ok(['EPERM', 'ENOTSUPP', 'EOPNOTSUPP', 'EINVAL'].includes(err.code), err.code);
    assert.match(err.log, /count_umask_(entry|exit)/);
    return;
  }
  objects.push(obj);
  obj.attach('count_umask_entry');
  obj.attach('count_umask_exit');
  umaskCalls(2);
  assert.equal(hits(obj, SLOT.fentry), 4n);
  assert.equal(hits(obj, SLOT.fexit), 4n);
});

const tracefsMounted = () => isMounted(TRACE_FS, 'tracefs');

test('tracepoint without tracefs: a typed attach error naming the tracepoint', (t) => {
  if (tracefsMounted()) {
    t.skip('tracefs is mounted on this machine');
    return;
  }
  const obj = BpfObject.load(TESTPROG, { rodata: { trace_tgid: process.pid } });
  objects.push(obj);
  assert.throws(
    () => obj.attach('count_umask_tracepoint'),
    (err: unknown) =>
      err instanceof BpfError &&
      err.step === 'attach' &&
      /cannot attach count_umask_tracepoint \(tracepoint\/syscalls\/sys_enter_umask\)/.test(err.message),
  );
});

test('tracepoint: attaches, counts exactly our calls and stops after detach (mounts tracefs if needed)', () => {
  // this kernel boots without tracefs mounted; mount it where libbpf looks, and undo that after
  const tracefs = ensureTraceFs();
  try {
    const obj = BpfObject.load(TESTPROG, { rodata: { trace_tgid: process.pid } });
    objects.push(obj);
    const link = obj.attach('count_umask_tracepoint');
    umaskCalls(3);
    assert.equal(hits(obj, SLOT.tracepoint), 6n);
    link.detach();
    umaskCalls(1);
    assert.equal(hits(obj, SLOT.tracepoint), 6n);
  } finally {
    unmountIfMountedNow(tracefs);
  }
});
