// Relay throughput and latency: three in-process agents (real @wirescope/observer servers on
// loopback) replay recorded flows (packages/flow/testdata, a synthetic recording) as fast as they
// can, each flow re-stamped with the time it is pushed; the relay runs as its own process, as it
// does in a cluster; one client follows through the relay and reads each response's time field.
// Prints end-to-end flows/s and the latency from push to client (which bounds what the relay adds),
// next to a baseline of the same client reading one agent directly. The client is its own process
// (BENCH_CLIENT=worker: a worker thread); on this 2-core machine agents, relay and client share
// two cores. BENCH_RELAY_ARGS adds relay flags (e.g. "--merge-window-ms 50"); BENCH_PUSH=flows
// has the agents push flow records (the agent's live path, each written to bytes by the ring)
// instead of pre-encoded recorded bytes, and then measures the replay path through the same relay
// as its baseline in the same run (replay_flows_per_s, live_over_replay on the last line).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  encodeFlowWithoutTime,
  loadRecordedFlows,
  loadRecordedRecords,
  newFlowRecord,
  type FlowRecord,
} from '@wirescope/flow';
import { Observer, ObserverServer, defaultFlowBatchLimits } from '@wirescope/observer';

// Bigger pools for Buffer.allocUnsafe: grpc-js allocates one small buffer per message.
Buffer.poolSize = 256 * 1024;

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 6000);
const warmupMs = 1000;
const backlogLimit = Number(process.env.BENCH_BACKLOG ?? 256);
const batch = Number(process.env.BENCH_BATCH ?? 128);
// BENCH_UPSTREAM=flows: agents refuse GetFlowBatches, so the relay reads one message per flow
const upstreamBatches = process.env.BENCH_UPSTREAM !== 'flows';
const flowBatchLimits = {
  maxResponses: Number(process.env.BENCH_BATCH_RESPONSES ?? defaultFlowBatchLimits.maxResponses),
  maxBytes: Number(process.env.BENCH_BATCH_BYTES ?? defaultFlowBatchLimits.maxBytes),
};
const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const recordedFlows = loadRecordedFlows();
const recorded = recordedFlows.map(encodeFlowWithoutTime);
// BENCH_PUSH=flows: agents push flow records (the live path: the agent's enrich stage fills a
// FlowRecord per event and hands it to the observer, whose ring writes the response bytes from
// it) instead of pre-encoded recorded bytes. As enrich does, each pushed flow is a fresh record
// sharing its endpoints and encryption extension (FlowEndpoint, FlowExtension: frozen, with
// their bytes) with the other flows of the same pods, and carrying Cilium's Summary. A record
// holds what enrich sets: the recordings' Ethernet and node labels are not in it.
const pushFlows = process.env.BENCH_PUSH === 'flows';
/** Per recorded flow, the record enrich would make of it (its time is set per push). */
const liveTemplates = loadRecordedRecords();
/** A fresh record filled field by field, as enrich fills one (named stores into a new record). */
function liveRecord(t: FlowRecord, seconds: number, nanos: number): FlowRecord {
  const r = newFlowRecord();
  r.timeSeconds = seconds;
  r.timeNanos = nanos;
  r.uuid = t.uuid;
  r.verdict = t.verdict;
  r.dropReason = t.dropReason;
  r.hasIP = t.hasIP;
  r.ipSource = t.ipSource;
  r.ipDestination = t.ipDestination;
  r.ipVersion = t.ipVersion;
  r.ipEncrypted = t.ipEncrypted;
  r.l4 = t.l4;
  r.sourcePort = t.sourcePort;
  r.destinationPort = t.destinationPort;
  r.tcpFlags = t.tcpFlags;
  r.icmpType = t.icmpType;
  r.icmpCode = t.icmpCode;
  r.source = t.source;
  r.destination = t.destination;
  r.type = t.type;
  r.nodeName = t.nodeName;
  r.eventType = t.eventType;
  r.eventSubType = t.eventSubType;
  r.trafficDirection = t.trafficDirection;
  r.policyMatchType = t.policyMatchType;
  r.traceObservationPoint = t.traceObservationPoint;
  r.traceReason = t.traceReason;
  r.dropReasonDesc = t.dropReasonDesc;
  r.isReply = t.isReply;
  r.interfaceIndex = t.interfaceIndex;
  r.interfaceName = t.interfaceName;
  r.summary = t.summary;
  r.extensions = t.extensions;
  return r;
}

interface Agent {
  observer: Observer;
  server: ObserverServer;
  address: string;
}

async function startAgents(): Promise<Agent[]> {
  return Promise.all(
    ['wst-node-1', 'wst-node-2', 'wst-node-3'].map(async (name) => {
      const observer = new Observer({ nodeName: name, capacity: 65535, clientQueue: 16384 });
      const server = new ObserverServer({
        observer,
        listen: ['127.0.0.1:0'],
        flowBatches: upstreamBatches,
        flowBatchLimits,
      });
      const [address] = await server.start();
      return { observer, server, address: address! };
    }),
  );
}

/**
 * Replays recorded flows into every agent, a batch per agent per event-loop turn, until stop().
 * An agent replays as fast as its reader takes flows: it skips a turn while its client's queue
 * is long, as a datapath producer would lose events rather than queue without bound.
 */
function replay(agents: Agent[], records = pushFlows): { stop(): number } {
  let running = true;
  let pushed = 0;
  let i = 0;
  const tick = () => {
    if (!running) return;
    let anyPushed = false;
    for (const a of agents) {
      if (a.observer.backlog > backlogLimit) continue;
      const t = nowMicros();
      if (records) {
        const seconds = Math.floor(t / 1e6);
        const nanos = (t - seconds * 1e6) * 1000;
        for (let j = 0; j < batch; j++) {
          a.observer.pushRecord(liveRecord(liveTemplates[i++ % liveTemplates.length]!, seconds, nanos));
        }
      } else {
        for (let j = 0; j < batch; j++) {
          a.observer.pushReplayed(recorded[i++ % recorded.length]!, t);
        }
      }
      pushed += batch;
      anyPushed = true;
    }
    // Every reader is behind: wait a millisecond rather than spin on the event loop (a datapath
    // producer sleeps until the kernel's next ring-buffer wake-up); spinning would take the
    // CPU the relay and the client need on this 2-core machine.
    if (anyPushed) setImmediate(tick);
    else setTimeout(tick, 1);
  };
  setImmediate(tick);
  return {
    stop: () => {
      running = false;
      return pushed;
    },
  };
}

interface Measurement {
  flows: number;
  lost: number;
  seconds: number;
  latenciesMs: number[];
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startRelay(agents: Agent[]): Promise<{ address: string; stop(): Promise<void> }> {
  // the relay's program through its package export (tsx runs this file as CommonJS: no import.meta.resolve)
  const bin = createRequire(import.meta.url).resolve('@wirescope/relay/bin');
  const peers = agents.map((a, i) => `wst-node-${i + 1}=${a.address}`).join(',');
  const nodeArgs = process.env.BENCH_RELAY_NODE_ARGS ? process.env.BENCH_RELAY_NODE_ARGS.split(' ') : [];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      bin,
      '--listen-address',
      '127.0.0.1:0',
      '--static-peers',
      peers,
      ...(process.env.BENCH_RELAY_ARGS ? process.env.BENCH_RELAY_ARGS.split(' ') : []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  // BENCH_RELAY_LOG=1 shows the relay's own log
  if (process.env.BENCH_RELAY_LOG) child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  const address = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /serving on (\S+?)(,|\s|$)/.exec(log);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`relay exited (${code}): ${log}`)));
  });
  // wait until the relay is connected to all three agents
  const deadline = Date.now() + 10_000;
  while ((log.match(/ connected/g) ?? []).length < 3 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return {
    address,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * The client reads in its own thread, as a separate process would, so it does not share the
 * agents' event loop. Plain JavaScript over the built packages: tsx does not load into workers.
 */
const workerSource = `
const { parentPort, workerData } = process.env.BENCH_CLIENT_DATA
  ? { parentPort: { postMessage: (m) => process.stdout.write(JSON.stringify(m), () => process.exit(0)) }, workerData: JSON.parse(process.env.BENCH_CLIENT_DATA) }
  : require('node:worker_threads');
(async () => {
  const grpc = await import('@grpc/grpc-js');
  const { create } = await import('@bufbuild/protobuf');
  const { GetFlowsRequestSchema, responseKind, responseTimeMicros } = await import('@wirescope/flow');
  const { makeClient, RawServerStream } = await import('@wirescope/observer');
  const { toBinary } = await import('@bufbuild/protobuf');
  const { address, warmupMs, durationMs } = workerData;
  const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
  const client = makeClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc-node.flow_control_window': Number(process.env.BENCH_WINDOW ?? 512 * 1024) });
  let counting = false, flows = 0, lost = 0;
  const latenciesMs = [];
  const onMessage = (bytes) => {
    if (!counting) return;
    const kind = responseKind(bytes);
    if (kind === 1) {
      flows++;
      if ((flows & 15) === 0) latenciesMs.push((nowMicros() - responseTimeMicros(bytes)) / 1000);
    } else if (kind === 3) lost++;
  };
  const request = toBinary(GetFlowsRequestSchema, create(GetFlowsRequestSchema, { follow: true }));
  const call = new RawServerStream(client, '/observer.Observer/GetFlows', request, { onMessage, onStatus: () => {} });
  await new Promise((r) => setTimeout(r, warmupMs));
  counting = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  counting = false;
  const seconds = (performance.now() - start) / 1000;
  call.cancel();
  client.close();
  // as its own process the client exits once stdout has taken the whole result (a pipe is async)
  parentPort.postMessage({ flows, lost, seconds, latenciesMs });
})();
`;

/** The same client as its own process: what a user's CLI is. */
function consumeInProcess(address: string, label: string): Promise<Measurement> {
  const clientArgs = process.env.BENCH_CLIENT_NODE_ARGS ? process.env.BENCH_CLIENT_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...clientArgs, '-e', workerSource], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, BENCH_CLIENT_DATA: JSON.stringify({ address, warmupMs, durationMs }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench client exited with ${code}`));
      const m = JSON.parse(out) as Measurement;
      process.stderr.write(`${label}: ${m.flows} flows in ${m.seconds.toFixed(1)} s\n`);
      resolve(m);
    });
  });
}

const consume = process.env.BENCH_CLIENT === 'worker' ? consumeInWorker : consumeInProcess;

function consumeInWorker(address: string, label: string): Promise<Measurement> {
  const worker = new Worker(workerSource, { eval: true, workerData: { address, warmupMs, durationMs } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: Measurement) => {
      process.stderr.write(`${label}: ${m.flows} flows in ${m.seconds.toFixed(1)} s\n`);
      resolve(m);
    });
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const agents = await startAgents();

  // Baseline: the same client reading one agent directly, while all three replay.
  let producer = replay(agents);
  const direct = await consume(agents[0]!.address, 'direct (one agent)');
  producer.stop();
  await new Promise((r) => setTimeout(r, 200));

  const relay = await startRelay(agents);
  producer = replay(agents);
  const relayed = await consume(relay.address, 'through relay (three agents)');
  const pushed = producer.stop();
  const agentLost = agents.reduce((s, a) => s + a.observer.lostEvents, 0);
  // the live path's baseline in the same run: the same relay and client, recorded bytes replayed
  let baseline: Measurement | undefined;
  if (pushFlows) {
    await new Promise((r) => setTimeout(r, 200));
    producer = replay(agents, false);
    baseline = await consume(relay.address, 'replay baseline through relay (three agents)');
    producer.stop();
  }

  const flowsPerS = Math.round(relayed.flows / relayed.seconds);
  const directPerS = Math.round(direct.flows / direct.seconds);
  const p50 = pct(relayed.latenciesMs, 50);
  const p99 = pct(relayed.latenciesMs, 99);
  const dp50 = pct(direct.latenciesMs, 50);
  const dp99 = pct(direct.latenciesMs, 99);
  console.log(
    `direct one agent:   ${directPerS} flows/s, latency p50 ${dp50.toFixed(2)} ms p99 ${dp99.toFixed(2)} ms`,
  );
  console.log(
    `relay three agents: ${flowsPerS} flows/s, latency p50 ${p50.toFixed(2)} ms p99 ${p99.toFixed(2)} ms`,
  );
  console.log(
    `relay/direct throughput ratio ${(flowsPerS / Math.max(1, directPerS)).toFixed(2)}; p50 added over direct ${(p50 - dp50).toFixed(2)} ms`,
  );
  console.log(
    `pushed ${pushed} flows in total; lost to slow readers: ${agentLost} at the agents, ${relayed.lost} lost_events messages seen by the client`,
  );
  console.log(
    `agent -> relay framing: ${upstreamBatches ? 'FlowBatch (GetFlowBatches)' : 'one message per flow (GetFlows)'}; ` +
      `agents push ${pushFlows ? 'flow records (live path)' : 'recorded bytes (replay path)'}`,
  );
  let tail = '';
  if (baseline) {
    const baselinePerS = Math.round(baseline.flows / baseline.seconds);
    const ratio = (flowsPerS / Math.max(1, baselinePerS)).toFixed(2);
    console.log(`replay baseline through the relay, same run: ${baselinePerS} flows/s; live/replay ${ratio}`);
    tail = ` replay_flows_per_s=${baselinePerS} live_over_replay=${ratio}`;
  }
  console.log(`relay flows_per_s=${flowsPerS} p50_ms=${p50.toFixed(2)} p99_ms=${p99.toFixed(2)}${tail}`);

  await relay.stop();
  await Promise.all(agents.map((a) => a.server.stop(100)));
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
