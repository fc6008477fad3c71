// Flow encoding cost: toBinary(FlowSchema, flow) from @bufbuild/protobuf (reflection-based
// writer, what the agent uses per live flow) against compileEncoder(FlowSchema) from
// @wirescope/flow (schema-specialised code generated once). Input: the recorded flows in
// packages/flow/testdata (a synthetic recording of the lab cluster, not live traffic).
// Rounds alternate between the two encoders in one process so both see the same machine state;
// each figure is the median over rounds of the mean µs per flow. Before timing, every flow is
// checked to encode to the same bytes both ways.
import { toBinary } from '@bufbuild/protobuf';
import { FlowSchema, compileEncoder, loadRecordedFlows } from '@wirescope/flow';

const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const passesPerRound = Number(process.env.BENCH_PASSES ?? 40);

const flows = loadRecordedFlows();
const compiled = compileEncoder(FlowSchema);
for (const [i, flow] of flows.entries()) {
  if (!Buffer.from(compiled(flow)).equals(Buffer.from(toBinary(FlowSchema, flow)))) {
    throw new Error(`recorded flow ${i}: compiled encoder bytes differ from toBinary`);
  }
}

// Keeps the results alive so the encoders cannot be optimised away.
let sink = 0;
function microsPerFlow(encode: (flow: (typeof flows)[number]) => Uint8Array): number {
  const start = process.hrtime.bigint();
  for (let p = 0; p < passesPerRound; p++) {
    for (const flow of flows) sink += encode(flow).length;
  }
  return Number(process.hrtime.bigint() - start) / 1000 / (passesPerRound * flows.length);
}
const encodeToBinary = (flow: (typeof flows)[number]) => toBinary(FlowSchema, flow);

// warm-up: both encoders reach optimised code before the timed rounds
microsPerFlow(encodeToBinary);
microsPerFlow(compiled);

const compiledTimes: number[] = [];
const toBinaryTimes: number[] = [];
for (let r = 0; r < rounds; r++) {
  toBinaryTimes.push(microsPerFlow(encodeToBinary));
  compiledTimes.push(microsPerFlow(compiled));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const compiledUs = median(compiledTimes);
const toBinaryUs = median(toBinaryTimes);
const bytes = flows.reduce((n, f) => n + compiled(f).length, 0) / flows.length;
console.log(
  `${flows.length} recorded flows, ${bytes.toFixed(0)} bytes each on average, ${rounds} rounds x ${passesPerRound} passes` +
    ` (fallbacks to toBinary: ${compiled.fallbacks}, sink ${sink > 0 ? 'ok' : 'empty'})`,
);
console.log(
  `flow-encode compiled_us=${compiledUs.toFixed(2)} tobinary_us=${toBinaryUs.toFixed(2)} speedup=${(toBinaryUs / compiledUs).toFixed(1)}`,
);
