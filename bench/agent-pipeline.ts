// The agent's live flow path in one process, on SYNTHETIC ring-buffer records (trace events laid
// out through the events layout table, as the datapath writes them): decode -> enrich -> the
// node's one observer (ring, response bytes) -> one follow client, then the same with the metrics
// hook the agent registers (its default --hubble-metrics). CPU time (process.cpuUsage), not wall
// time, per flow: this 2-core machine is shared, and CPU time is what a busy neighbour does not
// inflate as much. Baseline in the same run: the same records made into flows the reference way
// (protobuf-es create() of every message, toBinary) — what the path costs against a plain
// protobuf-es encoder of the same flows.
// Last line: agent_pipeline us_per_flow=<n> with_metrics_us_per_flow=<n> reference_us_per_flow=<n> ratio=<n>
import { create, toBinary } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { FlowDecoder, FlowObserver, type EnrichContext, type NodeInfo } from '@wirescope/agent/flows';
import { LAYOUT, type RecordBatchLike } from '@wirescope/events';
import { writeEventHeader, writePacketInfo } from '@wirescope/events/testing';
import {
  EndpointSchema,
  FlowSchema,
  GetFlowsRequestSchema,
  ciliumSummary,
  packedEncryption,
} from '@wirescope/flow';
import { DEFAULT_HUBBLE_METRICS, NodeMetrics } from '@wirescope/metrics';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const RECORDS_PER_BATCH = 256;
const NODE2_ID = (10 << 24) | (77 << 16) | 12;
const node2: NodeInfo = { name: 'node2', underlayIP: '10.77.0.12', publicKey: 'x'.repeat(43) + '=' };
const pods = [
  { ip: '10.244.1.11', namespace: 'shop', pod: 'frontend-6d8f7c9b5-x2k4p', app: 'frontend', node: 'node1' },
  { ip: '10.244.2.10', namespace: 'shop', pod: 'api-7c9b5d8f6-q8r2t', app: 'api', node: 'node2' },
].map((p, i) => ({
  ...p,
  info: {
    namespace: p.namespace,
    pod: p.pod,
    labels: { app: p.app, 'pod-template-hash': p.pod.split('-')[1]!, tier: i ? 'backend' : 'web' },
    identity: 1001 + i,
    node: p.node,
  },
}));
const ctx: EnrichContext = {
  nodeName: 'node1',
  endpointByIP: (ip) => pods.find((p) => p.ip === ip)?.info,
  nodeById: (id) => (id === NODE2_ID ? node2 : undefined),
  nodeByUnderlayIP: (ip) => (ip === node2.underlayIP ? node2 : undefined),
  interfaceName: (i) => (i === 9 ? 'lxc1234' : undefined),
  receiverIndexFor: () => 77,
  kernelDropReasonName: () => undefined,
  wallClockMs: (ns) => 1_700_000_000_000 + Number(ns / 1_000_000n),
};

/** A batch of to-crypto trace records of fresh connections (distinct source ports), TCP SYN|ACK. */
function syntheticBatch(): RecordBatchLike {
  const size = LAYOUT.ws_trace_event.size;
  const buffer = Buffer.alloc(size * RECORDS_PER_BATCH);
  for (let i = 0; i < RECORDS_PER_BATCH; i++) {
    const o = i * size;
    writeEventHeader(buffer, o, { type: 2, subtype: 13, size, ktimeNs: 5_000_000n + BigInt(i) });
    writePacketInfo(buffer, o + LAYOUT.ws_trace_event.fields.pkt.offset, {
      saddr: [10, 244, 1, 11],
      daddr: [10, 244, 2, 10],
      sport: 30000 + i,
      dport: 8080,
      ifindex: 9,
      srcIdentity: 1001,
      dstIdentity: 1002,
      peerNodeId: NODE2_ID,
      family: 4,
      protocol: 6,
      tcpFlags: 0x12,
      direction: 2,
      flags: 0x06,
    });
  }
  const offsets = Uint32Array.from({ length: RECORDS_PER_BATCH + 1 }, (_, i) => i * size);
  return { buffer, offsets, count: RECORDS_PER_BATCH };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU µs per flow of `round` (one batch of RECORDS_PER_BATCH flows), after a warm-up. */
function measure(round: () => void): number {
  for (const start = cpuMs(); cpuMs() - start < 500;) round();
  const start = cpuMs();
  let flows = 0;
  while (cpuMs() - start < SECONDS * 1000) {
    round();
    flows += RECORDS_PER_BATCH;
  }
  return ((cpuMs() - start) * 1000) / flows;
}

async function main(): Promise<void> {
  const batch = syntheticBatch();
  const observer = new FlowObserver(ctx);
  let bytesOut = 0;
  void observer.observer.getFlows(create(GetFlowsRequestSchema, { follow: true }), {
    write: (bytes) => ((bytesOut += bytes.length), true),
    onDrain: () => {},
    onCancel: () => {},
    end: () => {},
    cancelled: false,
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const pipeline = measure(() => observer.onBatch(batch));

  const metrics = new NodeMetrics(
    {
      ring: () => ({ size: 0, capacity: 0, seen: 0, lost: { kernelRing: 0, observerQueue: 0 } }),
    } as never,
    { hubbleMetrics: DEFAULT_HUBBLE_METRICS, processMetrics: false },
  );
  observer.observer.addHook({ name: 'metrics', onFlow: (entry) => metrics.observeFlow(entry.flow) });
  const withMetrics = measure(() => observer.onBatch(batch));

  // the reference: the same records, every message made with create() and encoded by toBinary()
  const decoder = new FlowDecoder();
  const reference = measure(() => {
    for (const event of decoder.decodeBatch(batch)) {
      if (event.kind !== 'trace') continue;
      const p = event.packet;
      const src = pods.find((x) => x.ip === p.saddr)!.info;
      const dst = pods.find((x) => x.ip === p.daddr)!.info;
      const endpoint = (e: typeof src) =>
        create(EndpointSchema, {
          identity: e.identity,
          namespace: e.namespace,
          podName: e.pod,
          labels: Object.entries(e.labels).map(([k, v]) => `k8s:${k}=${v}`),
          workloads: [{ name: e.labels.app, kind: 'Pod' }],
        });
      const flow = create(FlowSchema, {
        time: { seconds: BigInt(Math.floor(ctx.wallClockMs(event.header.ktimeNs) / 1000)), nanos: 0 },
        uuid: randomUUID(),
        verdict: 1,
        IP: { source: p.saddr, destination: p.daddr, ipVersion: 1, encrypted: true },
        l4: {
          protocol: {
            case: 'TCP',
            value: { sourcePort: p.sport, destinationPort: p.dport, flags: { SYN: true, ACK: true } },
          },
        },
        source: endpoint(src),
        destination: endpoint(dst),
        Type: 1,
        nodeName: ctx.nodeName,
        eventType: { type: 4, subType: event.point },
        traceObservationPoint: event.point,
        interface: { index: p.ifindex, name: 'lxc1234' },
        extensions: packedEncryption({
          mechanism: 1,
          peerNode: node2.name,
          peerPublicKey: node2.publicKey,
          receiverIndex: 77,
        }),
      });
      flow.Summary = ciliumSummary(flow);
      toBinary(FlowSchema, flow);
    }
  });

  console.log(
    `synthetic trace records, ${RECORDS_PER_BATCH} per ring-buffer batch, ${SECONDS} s of CPU per figure`,
  );
  console.log(`  pipeline (decode, enrich, ring, one follower): ${pipeline.toFixed(2)} us/flow`);
  console.log(`  with the metrics hook (${DEFAULT_HUBBLE_METRICS}): ${withMetrics.toFixed(2)} us/flow`);
  console.log(`  reference (create() + toBinary of the same flows): ${reference.toFixed(2)} us/flow`);
  console.log(`  follower received ${(bytesOut / 1e6).toFixed(0)} MB`);
  console.log(
    `agent_pipeline us_per_flow=${pipeline.toFixed(2)} with_metrics_us_per_flow=${withMetrics.toFixed(2)} ` +
      `reference_us_per_flow=${reference.toFixed(2)} ratio=${(pipeline / reference).toFixed(3)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
