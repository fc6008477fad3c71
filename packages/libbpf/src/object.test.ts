// Loading, rodata, testRun and the ring-buffer reader on the probe object (no network needed).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder, type ProbeEvent } from '@wirescope/events';
import { BpfObject, batchRecords, type RecordBatch } from './index.js';
import { exitUnlessRoot, waitFor } from './netns-fixture.js';
import { buildFrame } from './packets.js';
import { bpfOutputDir } from '@wirescope/bpf';

exitUnlessRoot();

const OUTPUT = bpfOutputDir;
const PROBE = `${OUTPUT}probe.bpf.o`;
const BENCH = `${OUTPUT}bench_ringbuf.bpf.o`;
const TC_ACT_UNSPEC = -1;

const opened: BpfObject[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});
function load(path: string, options = {}): BpfObject {
  const o = BpfObject.load(path, options);
  opened.push(o);
  return o;
}

test('lists programs, maps and rodata globals of the probe object', () => {
  const probe = load(PROBE);
  assert.deepEqual(probe.programNames(), ['probe_ingress', 'probe_egress']);
  assert.deepEqual(probe.mapNames().slice(0, 2), ['events', 'lost_events']);
  const prog = probe.program('probe_ingress');
  assert.equal(prog.section, 'tc');
  assert.equal(prog.type, 'sched_cls');
  assert.ok(prog.fd > 0);
  const events = probe.map('events');
  assert.equal(events.type, 'ringbuf');
  assert.equal(events.maxEntries, 1 << 22);
  assert.deepEqual(
    probe.globals().map((g) => [g.name, g.section, g.size]),
    [
      ['probe_ifindex_filter', '.rodata', 4],
      ['probe_family_mask', '.rodata', 1],
    ],
  );
});

test('reuseMaps: two objects share one ring buffer, so one reader sees both in commit order', () => {
  const first = load(PROBE);
  const second = load(PROBE, { reuseMaps: { events: first.map('events') } });
  const ports: number[] = [];
  const decoder = new EventDecoder();
  const reader = first.openRingBuffer('events', (batch) => {
    for (const e of decoder.decodeBatch(batch)) if (e.kind === 'probe') ports.push(e.sport);
  });
  const frame = (sport: number) =>
    buildFrame({ src: '192.0.2.1', dst: '198.51.100.7', protocol: 'udp', sport, dport: 53 });
  first.program('probe_egress').testRun(frame(1001));
  second.program('probe_egress').testRun(frame(2002));
  first.program('probe_egress').testRun(frame(1003));
  assert.equal(reader.drain(), 3);
  assert.deepEqual(ports, [1001, 2002, 1003]);
  assert.throws(
    () => load(PROBE, { reuseMaps: { events: 'not a map' as never } }),
    (err: Error & { code?: string }) =>
      err.code === 'ERR_INVALID_ARG' && /reuseMaps\.events/.test(err.message),
  );
});

test('testRun runs the probe on a crafted TCP/IPv4 frame and the record decodes exactly', () => {
  const probe = load(PROBE);
  const decoded: ProbeEvent[] = [];
  const decoder = new EventDecoder();
  const reader = probe.openRingBuffer('events', (batch) => {
    for (const e of decoder.decodeBatch(batch)) if (e.kind === 'probe') decoded.push(e);
  });
  const frame = buildFrame({
    src: '192.0.2.1',
    dst: '198.51.100.7',
    protocol: 'tcp',
    sport: 5555,
    dport: 443,
    tcpFlags: 0x18,
  });
  const result = probe.program('probe_egress').testRun(frame, 3);
  assert.equal(result.retval, TC_ACT_UNSPEC); // observers never change the verdict
  assert.deepEqual(result.dataOut, frame); // nor the packet
  assert.equal(reader.drain(), 3);
  assert.equal(decoded.length, 3);
  const e = decoded[0];
  assert.ok(e);
  assert.deepEqual(
    [e.family, e.saddr, e.daddr, e.sport, e.dport, e.protocol, e.tcpFlags, e.direction, e.pktLen],
    [4, '192.0.2.1', '198.51.100.7', 5555, 443, 6, 0x18, 'egress', frame.length],
  );
  assert.equal(e.ifindex, 1); // BPF_PROG_TEST_RUN runs on loopback
});

test('rodata set before load changes behaviour: probe_family_mask=2 emits only IPv6', () => {
  const probe = load(PROBE, { rodata: { probe_family_mask: 2 } });
  const records: Buffer[] = [];
  const reader = probe.openRingBuffer('events', (batch) => records.push(...batchRecords(batch)));
  probe.testRun(
    'probe_ingress',
    buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 'udp', sport: 1, dport: 2 }),
  );
  probe.testRun(
    'probe_ingress',
    buildFrame({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 'udp', sport: 53, dport: 5353 }),
  );
  reader.drain();
  assert.equal(records.length, 1);
  const e = new EventDecoder().decode(records[0] as Buffer);
  assert.ok(e?.kind === 'probe');
  assert.deepEqual(
    [e.family, e.saddr, e.daddr, e.sport, e.dport],
    [6, '2001:db8::1', '2001:db8::2', 53, 5353],
  );
});

test('ring buffer: one callback per wake-up carrying the whole batch', async () => {
  const bench = load(BENCH, { rodata: { bench_records_per_run: 100 } });
  const batches: RecordBatch[] = [];
  bench.openRingBuffer('events', (batch) => batches.push(batch));
  bench.testRun('bench_fill', Buffer.alloc(64), 10); // 1000 records before the loop runs again
  await waitFor(() => batches.reduce((n, b) => n + b.count, 0) === 1000, '1000 records');
  assert.equal(batches.length, 1, 'all 1000 records arrived in one callback');
  const batch = batches[0] as RecordBatch;
  assert.equal(batch.offsets.length, 1001);
  assert.equal(batch.buffer.length, 1000 * 32);
  const seqs = new EventDecoder().decodeBatch(batch).map((e) => (e.kind === 'bench' ? Number(e.seq) : -1));
  assert.deepEqual(
    seqs,
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

test('ring buffer: batchBytes splits a large backlog without losing or reordering records', async () => {
  const bench = load(BENCH, { rodata: { bench_records_per_run: 1000 } });
  const seqs: number[] = [];
  const sizes: number[] = [];
  const decoder = new EventDecoder();
  bench.openRingBuffer(
    'events',
    (batch) => {
      sizes.push(batch.buffer.length);
      for (const e of decoder.decodeBatch(batch)) if (e.kind === 'bench') seqs.push(Number(e.seq));
    },
    { batchBytes: 4096 },
  );
  bench.testRun('bench_fill', Buffer.alloc(64), 20); // 20000 records = 640000 bytes
  await waitFor(() => seqs.length === 20000, '20000 records');
  assert.ok(sizes.every((s) => s <= 4096));
  assert.equal(sizes.length, Math.ceil(20000 / 128));
  assert.ok(seqs.every((s, i) => s === i));
  assert.equal(bench.map('lost_events').sumPerCpuU64(Buffer.alloc(4)), 0n);
});

test('ring buffer: pause holds records in the kernel, resume delivers them; close is idempotent', async () => {
  const bench = load(BENCH, { rodata: { bench_records_per_run: 10 } });
  let received = 0;
  const reader = bench.openRingBuffer('events', (batch) => (received += batch.count), { paused: true });
  assert.equal(reader.paused, true);
  bench.testRun('bench_fill', Buffer.alloc(64), 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(received, 0);
  reader.resume();
  await waitFor(() => received === 10, '10 records after resume');
  reader.pause();
  bench.testRun('bench_fill', Buffer.alloc(64), 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(received, 10);
  assert.equal(reader.drain(), 10); // explicit drain works while paused
  assert.equal(received, 20);
  reader.close();
  reader.close();
  assert.throws(() => reader.resume(), { name: 'BpfError', code: 'ERR_CLOSED', step: 'ringbuf' });
});

test('ring buffer: AsyncIterable form yields batches until the reader closes', async () => {
  const bench = load(BENCH, { rodata: { bench_records_per_run: 5 } });
  const reader = bench.openRingBuffer('events', () => {});
  const seen: number[] = [];
  const consumer = (async () => {
    const decoder = new EventDecoder();
    for await (const batch of reader) {
      for (const e of decoder.decodeBatch(batch)) if (e.kind === 'bench') seen.push(Number(e.seq));
      if (seen.length >= 15) reader.close();
    }
  })();
  for (let i = 0; i < 3; i++) {
    bench.testRun('bench_fill', Buffer.alloc(64), 1);
    await new Promise((r) => setTimeout(r, 20));
  }
  await consumer;
  assert.deepEqual(
    seen,
    Array.from({ length: 15 }, (_, i) => i),
  );
});

test('ring buffer: reuseBuffer hands every batch the same 8-byte-aligned buffer', async () => {
  const bench = load(BENCH, { rodata: { bench_records_per_run: 1000 } });
  const backingStores = new Set<ArrayBufferLike>();
  const seqs: number[] = [];
  const decoder = new EventDecoder();
  bench.openRingBuffer(
    'events',
    (batch) => {
      backingStores.add(batch.buffer.buffer);
      assert.equal(batch.buffer.byteOffset % 8, 0);
      assert.ok(batch.offsets.every((o) => o % 8 === 0));
      // read in the callback: the buffer is overwritten by the next batch
      for (const e of decoder.decodeBatch(batch)) if (e.kind === 'bench') seqs.push(Number(e.seq));
    },
    { batchBytes: 8192, reuseBuffer: true },
  );
  bench.testRun('bench_fill', Buffer.alloc(64), 2);
  await waitFor(() => seqs.length === 2000, '2000 records');
  assert.equal(backingStores.size, 1);
  assert.ok(seqs.every((s, i) => s === i));
});

test('ring buffer: the AsyncIterable form keeps reused-buffer batches intact while the consumer waits', async () => {
  const bench = load(BENCH, { rodata: { bench_records_per_run: 200 } });
  const reader = bench.openRingBuffer('events', undefined, { batchBytes: 4096, reuseBuffer: true });
  bench.testRun('bench_fill', Buffer.alloc(64), 5); // 1000 records, ~8 batches queued at once
  const seqs: number[] = [];
  const decoder = new EventDecoder();
  for await (const batch of reader) {
    await new Promise((r) => setTimeout(r, 5)); // slow consumer: later batches arrive meanwhile
    for (const e of decoder.decodeBatch(batch)) if (e.kind === 'bench') seqs.push(Number(e.seq));
    if (seqs.length >= 1000) reader.close();
  }
  assert.deepEqual(
    seqs,
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

test('ring buffer: drain() from inside a batch handler is refused, not re-entered', () => {
  const bench = load(BENCH, { rodata: { bench_records_per_run: 4 } });
  const errors: unknown[] = [];
  let batches = 0;
  const reader = bench.openRingBuffer(
    'events',
    () => {
      batches++;
      try {
        reader.drain();
      } catch (err) {
        errors.push(err);
      }
    },
    { reuseBuffer: true },
  );
  bench.testRun('bench_fill', Buffer.alloc(64), 1);
  assert.equal(reader.drain(), 4);
  assert.equal(batches, 1);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /cannot be called from inside a batch handler/);
});

test('coalesceMs: records submitted within the interval arrive as one batch, none lost; pause() still wins', async () => {
  const probe = load(PROBE);
  const frame = (sport: number) =>
    buildFrame({ src: '192.0.2.1', dst: '198.51.100.7', protocol: 'udp', sport, dport: 53 });
  const decoder = new EventDecoder();
  const batches: number[][] = [];
  const reader = probe.openRingBuffer(
    'events',
    (batch) => {
      batches.push(decoder.decodeBatch(batch).flatMap((e) => (e.kind === 'probe' ? [e.sport] : [])));
      // submitted while the first batch is handled: they land inside the reader's pause
      if (batches.length === 1)
        for (let port = 2; port <= 6; port++) probe.program('probe_egress').testRun(frame(port));
    },
    { coalesceMs: 300 },
  );
  probe.program('probe_egress').testRun(frame(1));
  await waitFor(() => batches.flat().length === 6, 'records 1-6', 3000);
  assert.deepEqual(batches, [[1], [2, 3, 4, 5, 6]]);
  // a user pause() during an interval is not undone when the interval ends
  reader.pause();
  probe.program('probe_egress').testRun(frame(7));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(batches.flat().length, 6);
  reader.resume();
  await waitFor(() => batches.flat().length === 7, 'record 7 after resume', 3000);
  assert.throws(
    () => probe.openRingBuffer('events', () => {}, { coalesceMs: -1 }),
    /coalesceMs must be an integer/,
  );
});
