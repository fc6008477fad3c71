// Flow encoding cost: toBinary(FlowSchema, flow) from @bufbuild/protobuf (reflection-based
// writer, what the agent uses per live flow) against compileEncoder(FlowSchema) from
// @wirescope/flow (schema-specialised code generated once). Input: the recorded flows in
// packages/flow/testdata (a synthetic recording of the lab cluster, not live traffic).
// Rounds alternate between the two encoders in one process so both see the same machine state;
// each figure is the median over rounds of the mean µs per flow. Before timing, every flow is
// checked to encode to the same bytes both ways.
// Then the live path's follower filters on the same recorded flows as FlowRecords: the record
// predicate of compileFilterPredicates against the Flow predicate on recordToFlow(record) (what
// a filtered follower cost per live entry before), alternating the same way, ns per flow; each
// filter is first checked to give the same answer both ways on every record.
// Lines: flow-encode compiled_us=… tobinary_us=… speedup=…, then one per filter:
// record-filter filter=<name> record_ns=… via_flow_ns=… ratio=… matched=<n>/<records>
import { create, toBinary } from '@bufbuild/protobuf';
import {
  FlowFilterSchema,
  FlowSchema,
  Verdict,
  compileEncoder,
  compileFilterPredicates,
  loadRecordedFlows,
  loadRecordedRecords,
  recordToFlow,
  type FlowRecord,
} from '@wirescope/flow';

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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Medians over alternating rounds of [baseline, candidate], after one warm-up each. */
function alternate(baseline: () => number, candidate: () => number): [number, number] {
  baseline();
  candidate();
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < rounds; r++) {
    times[0].push(baseline());
    times[1].push(candidate());
  }
  return [median(times[0]), median(times[1])];
}

const [toBinaryUs, compiledUs] = alternate(
  () => microsPerFlow(encodeToBinary),
  () => microsPerFlow(compiled),
);
const bytes = flows.reduce((n, f) => n + compiled(f).length, 0) / flows.length;
console.log(
  `${flows.length} recorded flows, ${bytes.toFixed(0)} bytes each on average, ${rounds} rounds x ${passesPerRound} passes` +
    ` (fallbacks to toBinary: ${compiled.fallbacks}, sink ${sink > 0 ? 'ok' : 'empty'})`,
);
console.log(
  `flow-encode compiled_us=${compiledUs.toFixed(2)} tobinary_us=${toBinaryUs.toFixed(2)} speedup=${(toBinaryUs / compiledUs).toFixed(1)}`,
);

// hubble observe --namespace default --verdict FORWARDED (two filters, the verdict in each), and
// --label k8s:app=client (source or destination label)
const followerFilters = {
  'namespace+verdict': [
    { sourcePod: ['default/'], verdict: [Verdict.FORWARDED] },
    { destinationPod: ['default/'], verdict: [Verdict.FORWARDED] },
  ],
  label: [{ sourceLabel: ['k8s:app=client'] }, { destinationLabel: ['k8s:app=client'] }],
};
const records = loadRecordedRecords();
const filterPasses = passesPerRound * 10;
function nsPerRecord(test: (r: FlowRecord) => boolean): number {
  const start = process.hrtime.bigint();
  for (let p = 0; p < filterPasses; p++) for (const r of records) if (test(r)) sink++;
  return Number(process.hrtime.bigint() - start) / (filterPasses * records.length);
}
for (const [name, whitelist] of Object.entries(followerFilters)) {
  const pair = compileFilterPredicates(
    whitelist.map((f) => create(FlowFilterSchema, f)),
    [],
  );
  const onRecord = pair.record;
  const viaFlow = (r: FlowRecord) => pair.flow(recordToFlow(r));
  let matched = 0;
  for (const [i, r] of records.entries()) {
    if (onRecord(r) !== viaFlow(r)) throw new Error(`${name}: record ${i}: the two predicates differ`);
    if (onRecord(r)) matched++;
  }
  const [viaFlowNs, recordNs] = alternate(
    () => nsPerRecord(viaFlow),
    () => nsPerRecord(onRecord),
  );
  console.log(
    `record-filter filter=${name} record_ns=${recordNs.toFixed(0)} via_flow_ns=${viaFlowNs.toFixed(0)}` +
      ` ratio=${(viaFlowNs / recordNs).toFixed(1)} matched=${matched}/${records.length}`,
  );
}
