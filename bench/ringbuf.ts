// Ring-buffer throughput: the same pre-filled BPF ring buffer drained (a) by a C consumer on
// libbpf's ring_buffer__consume (the baseline, built here) and (b) through @wirescope/libbpf
// into JS (uv_poll wake-ups, one callback per batch), alternating a and b in one run.
// Both read every record's sequence number and check the order.
// Each side's figure is its best round (the round least disturbed by other work on the machine;
// medians are printed too). Last line:
//   ringbuf js_events_per_s=<n> c_events_per_s=<n> ratio=<js/c> lost=<n>
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, statSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BpfMap,
  BpfObject,
  ensureBpfFs,
  requireRoot,
  type RecordBatch,
  type RingBufferReader,
} from '@wirescope/libbpf';
import { bpfObject } from '@wirescope/bpf';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_OBJECT = bpfObject('bench_ringbuf');
const CONSUMER_SRC = `${ROOT}bench/ringbuf-consumer.c`;
const CONSUMER_BIN = `${ROOT}bench/.output/ringbuf-consumer`;
const PIN = `/sys/fs/bpf/wst1-bench-${process.pid}-events`;

const RECORDS_PER_RUN = 1000;
const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 4_000_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
// BENCH_OWNED=1 also measures the default reader mode (a fresh buffer per batch, kept by JS)
const MEASURE_OWNED = process.env['BENCH_OWNED'] === '1';
// unset: the reader's default
const BATCH_OPTION = process.env['BENCH_BATCH_BYTES']
  ? { batchBytes: Number(process.env['BENCH_BATCH_BYTES']) }
  : {};
const RECORD_BYTES = 32 + 8; // ws_bench_event + ring-buffer record header
// smallest power-of-two ring that holds one round
const RING_BYTES = 2 ** Math.ceil(Math.log2(RECORDS * RECORD_BYTES));

function buildConsumer(): void {
  if (existsSync(CONSUMER_BIN) && statSync(CONSUMER_BIN).mtimeMs > statSync(CONSUMER_SRC).mtimeMs) return;
  mkdirSync(`${ROOT}bench/.output`, { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', CONSUMER_BIN, CONSUMER_SRC, '-lbpf', '-lelf', '-lz'], {
    stdio: 'inherit',
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  requireRoot('bench/ringbuf.ts', 'sudo npm run bench:ringbuf');
  if (!Number.isInteger(RECORDS / RECORDS_PER_RUN) || RECORDS <= 0)
    throw new Error(`BENCH_RECORDS must be a positive multiple of ${RECORDS_PER_RUN}`);
  buildConsumer();
  // the C consumer opens the ring through a pin, which needs bpffs (absent on a new machine)
  if (ensureBpfFs().mountedNow) console.error('bench:ringbuf: mounted bpffs at /sys/fs/bpf');
  const bench = BpfObject.load(BENCH_OBJECT, {
    rodata: { bench_records_per_run: RECORDS_PER_RUN },
    maxEntries: { events: RING_BYTES },
  });
  let stopConsumer = () => {};
  const cleanup = () => {
    stopConsumer();
    BpfMap.unpin(PIN);
    bench.close();
  };
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  process.once('SIGTERM', () => (cleanup(), process.exit(143)));
  try {
    const events = bench.map('events');
    events.pin(PIN);
    const packet = Buffer.alloc(64);
    const fill = () => bench.testRun('bench_fill', packet, RECORDS / RECORDS_PER_RUN);

    let jsReceived = 0;
    let jsNextSeq = 0;
    let jsSeqErrors = 0;
    let onTarget: (() => void) | undefined;
    // The JS consumer does what the C one does: read every record's u64 seq, check the order.
    const onBatch = (batch: RecordBatch) => {
      // records start 8-byte aligned in the batch buffer: read seq (u64 at +24) in place;
      // Int32 views keep V8 on int32 arithmetic (no uint32 -> float64 conversions)
      const words = new Int32Array(
        batch.buffer.buffer,
        batch.buffer.byteOffset,
        batch.buffer.byteLength >>> 2,
      );
      const offsets = new Int32Array(batch.offsets.buffer, batch.offsets.byteOffset, batch.offsets.length);
      const count = batch.count;
      // seq is a u64: compare the low words record by record; the high word can only change
      // when the low word wraps, which the check at the end of the batch covers
      let nextLo = (jsNextSeq % 0x1_0000_0000) | 0;
      let errors = 0;
      for (let i = 0; i < count; i++) {
        const lo = words[((offsets[i] as number) + 24) >> 2] as number;
        if (lo !== nextLo) errors++;
        nextLo = (lo + 1) | 0;
      }
      let next = jsNextSeq;
      if (count > 0) {
        const at = ((offsets[count - 1] as number) + 24) >> 2;
        // exact below 2^53
        const last = ((words[at] as number) >>> 0) + (words[at + 1] as number) * 0x1_0000_0000;
        if (last !== jsNextSeq + count - 1) errors++;
        next = last + 1;
      }
      jsSeqErrors += errors;
      jsNextSeq = next;
      jsReceived += count;
      if (jsReceived >= RECORDS) onTarget?.();
    };
    // reused: one buffer for every batch (the agent's mode: it decodes each batch at once);
    // owned: a batch's buffer may be kept by the receiver (the default)
    const readers: Record<string, RingBufferReader> = {
      reused: bench.openRingBuffer('events', onBatch, {
        paused: true,
        reuseBuffer: true,
        ...BATCH_OPTION,
      }),
    };
    if (MEASURE_OWNED)
      readers['owned'] = bench.openRingBuffer('events', onBatch, { paused: true, ...BATCH_OPTION });

    async function consumeWithJs(reader: RingBufferReader): Promise<number> {
      const firstSeq = bench.map('bench_seq').lookup(Buffer.alloc(4))?.readBigUInt64LE() ?? 0n;
      fill();
      jsReceived = 0;
      jsSeqErrors = 0;
      jsNextSeq = Number(firstSeq);
      const done = new Promise<void>((resolve) => (onTarget = resolve));
      const start = process.hrtime.bigint();
      reader.resume();
      await done;
      const elapsed = Number(process.hrtime.bigint() - start);
      reader.pause();
      if (jsReceived !== RECORDS || jsSeqErrors !== 0)
        throw new Error(`JS consumer got ${jsReceived} records, ${jsSeqErrors} out of order`);
      return (jsReceived / elapsed) * 1e9;
    }

    // the C consumer stays up for the whole run: forking between rounds would leave this
    // process's pages copy-on-write and bill the JS side for the faults
    const consumer = spawn(CONSUMER_BIN, [PIN], { stdio: ['pipe', 'pipe', 'inherit'] });
    const consumerLines = createInterface({ input: consumer.stdout })[Symbol.asyncIterator]();
    const nextLine = async () => {
      const line = await consumerLines.next();
      if (line.done) throw new Error(`C consumer exited (${consumer.exitCode ?? consumer.signalCode})`);
      return line.value;
    };
    stopConsumer = () => consumer.kill();
    if ((await nextLine()) !== 'ready') throw new Error('C consumer did not start');

    async function consumeWithC(): Promise<number> {
      fill();
      consumer.stdin.write(`${RECORDS}\n`);
      const reply = await nextLine();
      const m = /records=(\d+) ns=(\d+) seq_errors=(\d+)/.exec(reply);
      if (!m || Number(m[1]) !== RECORDS) throw new Error(`C consumer failed: ${reply}`);
      if (Number(m[3]) !== 0) throw new Error(`C consumer saw ${m[3]} out-of-order records`);
      return (Number(m[1]) / Number(m[2])) * 1e9;
    }

    const rates = { c: [] as number[], reused: [] as number[], owned: [] as number[] };
    console.log(
      `ringbuf bench: ${RECORDS} records of ${RECORD_BYTES - 8} bytes per round, ring ${RING_BYTES >> 20} MiB, ` +
        `${ROUNDS} rounds of C then JS (reuseBuffer${MEASURE_OWNED ? ', then JS with owned buffers' : ''}), best round of each reported`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      const c = await consumeWithC();
      const reused = await consumeWithJs(readers['reused'] as RingBufferReader);
      rates.c.push(c);
      rates.reused.push(reused);
      let line = `round ${round}: c_events_per_s=${Math.round(c)} js_events_per_s=${Math.round(reused)} ratio=${(reused / c).toFixed(3)}`;
      if (readers['owned']) {
        const owned = await consumeWithJs(readers['owned']);
        rates.owned.push(owned);
        line += ` js_owned_events_per_s=${Math.round(owned)} ratio_owned=${(owned / c).toFixed(3)}`;
      }
      console.log(line);
    }
    for (const [mode, reader] of Object.entries(readers)) {
      const stats = reader.stats();
      console.log(
        `js ${mode}: batches=${stats.batches} records/batch=${Math.round(stats.records / stats.batches)}`,
      );
      reader.close();
    }
    const lost = bench.map('lost_events').sumPerCpuU64(Buffer.alloc(4));
    console.log(
      `ringbuf-median js_events_per_s=${Math.round(median(rates.reused))} c_events_per_s=${Math.round(median(rates.c))} ` +
        `ratio=${(median(rates.reused) / median(rates.c)).toFixed(3)}`,
    );
    const c = Math.max(...rates.c);
    const js = Math.max(...rates.reused);
    if (rates.owned.length > 0) {
      const owned = Math.max(...rates.owned);
      console.log(
        `ringbuf-owned js_events_per_s=${Math.round(owned)} c_events_per_s=${Math.round(c)} ratio=${(owned / c).toFixed(3)}`,
      );
    }
    console.log(
      `ringbuf js_events_per_s=${Math.round(js)} c_events_per_s=${Math.round(c)} ratio=${(js / c).toFixed(3)} lost=${lost}`,
    );
  } finally {
    cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`ringbuf bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
