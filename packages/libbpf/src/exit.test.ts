// A process that exits without closing anything must not leave tc filters behind.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VethLab, exitUnlessRoot } from './netns-fixture.js';
import { bpfObject } from '@wirescope/bpf';

exitUnlessRoot();

const lab = new VethLab({ prefix: 'wst1-', tag: `x${process.pid % 10000}`, subnet: 12 }).up();
after(() => lab.down());

const INDEX = fileURLToPath(new URL('./index.ts', import.meta.url));
// workers do not inherit tsx's loader: they use the built package
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const PROBE = bpfObject('probe');
const BENCH = bpfObject('bench_ringbuf');

function runChild(exitHow: string): string {
  const source = `
    import { BpfObject } from ${JSON.stringify(INDEX)};
    const o = BpfObject.load(${JSON.stringify(PROBE)});
    o.openRingBuffer('events', () => {});
    o.attachTc('probe_ingress', { ifname: ${JSON.stringify(lab.ifA)}, direction: 'ingress', netns: ${JSON.stringify(lab.nsA)} });
    o.attachTc('probe_egress', { ifname: ${JSON.stringify(lab.ifA)}, direction: 'egress', netns: ${JSON.stringify(lab.nsA)} });
    console.log('attached');
    ${exitHow}`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.match(res.stdout, /attached/, res.stderr);
  return res.stdout;
}

test('process.exit() with filters attached and a reader open leaves no filter', () => {
  runChild('process.exit(0);');
  assert.equal(lab.tcFilters(lab.nsA, lab.ifA).trim(), '');
});

test('an uncaught exception leaves no filter', () => {
  runChild("setTimeout(() => { throw new Error('boom'); }, 10);");
  assert.equal(lab.tcFilters(lab.nsA, lab.ifA).trim(), '');
});

test('a batch handler that throws surfaces as an uncaught exception, and cleanup still runs', () => {
  const source = `
    import { BpfObject } from ${JSON.stringify(INDEX)};
    const o = BpfObject.load(${JSON.stringify(BENCH)}, { rodata: { bench_records_per_run: 3 } });
    o.attachTc('bench_fill', { ifname: ${JSON.stringify(lab.ifA)}, direction: 'ingress', netns: ${JSON.stringify(lab.nsA)} });
    o.openRingBuffer('events', (batch) => { throw new Error('handler saw ' + batch.count + ' records'); });
    o.testRun('bench_fill', Buffer.alloc(64), 1);`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(res.signal, null, 'no crash signal');
  assert.equal(res.status, 1);
  assert.match(res.stderr, /Error: handler saw 3 records/);
  assert.equal(lab.tcFilters(lab.nsA, lab.ifA).trim(), '');
});

test('process.exit() with no JS exit handler: the native atexit handler removes the filters', () => {
  runChild("process.removeAllListeners('exit'); process.exit(0);");
  assert.equal(lab.tcFilters(lab.nsA, lab.ifA).trim(), '');
});

test('a worker thread that ends without closing leaves no filter (env cleanup hook)', () => {
  const source = `
    import { Worker } from 'node:worker_threads';
    const w = new Worker(${JSON.stringify(`
      import { BpfObject } from ${JSON.stringify(DIST_INDEX)};
      const o = BpfObject.load(${JSON.stringify(PROBE)});
      o.attachTc('probe_ingress', { ifname: ${JSON.stringify(lab.ifA)}, direction: 'ingress', netns: ${JSON.stringify(lab.nsA)} });
      process.removeAllListeners('exit');
      console.log('attached');
    `)}, { eval: true });
    w.on('exit', (code) => console.log('worker exited', code));`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.match(res.stdout, /attached[\s\S]*worker exited 0/, res.stderr);
  assert.equal(lab.tcFilters(lab.nsA, lab.ifA).trim(), '');
});

test('a paused reader that is dropped is garbage-collected with its memory', () => {
  const source = `
    import { BpfObject, RingBufferReader, liveResources } from ${JSON.stringify(INDEX)};
    const o = BpfObject.load(${JSON.stringify(BENCH)});
    const open = () => {
      // a reader made directly on the map: the object does not hold it
      const reader = new RingBufferReader(o.map('events'), () => {}, { batchBytes: 1 << 20 });
      reader.pause(); // no longer polled: nothing keeps it alive but this scope
    };
    for (let i = 0; i < 20; i++) open();
    const before = liveResources().ringBuffers;
    for (let i = 0; i < 10 && liveResources().ringBuffers > 0; i++) {
      globalThis.gc();
      await new Promise((r) => setImmediate(r));
    }
    console.log(JSON.stringify({ before, after: liveResources().ringBuffers }));
    o.close();`;
  const res = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', source],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  assert.equal(res.status, 0, res.stderr);
  const counts = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { before: number; after: number };
  assert.equal(counts.before, 20);
  assert.equal(counts.after, 0);
});
