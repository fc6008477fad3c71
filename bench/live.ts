// The live path under load, on the real lab: a bounded load generator inside lab pods opens fresh
// TCP connections (one HTTP GET each, connection: close), same-node and cross-node, at a stepped
// rate; one follower reads everything through the relay. Per step it prints what the agents saw
// (their own seen_flows: the baseline delivery is measured against, beside the offered rate), what
// the follower received, lost events by stage, agent CPU per 10k flows/s, agent RSS and ring use.
//
// A connection is not one Hubble flow: a short calibration step measures how many flows the
// agents produce per connection, and each step's connection rate is chosen to offer its flows/s.
// The ladder runs once per follower, one follower at a time (the target is "one follower"):
//   raw  a GetFlows follow stream read as bytes and counted (the headline figures)
//   cli  the real `wirescope observe -f -o json`, its stdout counted through a pipe
// Both read the relay's plain unix socket (/run/wirescope-lab/relay.sock).
//
//   npm run bench:live     (brings a lab up and down unless one is already running)
//   BENCH_STEPS=5000,10000,20000,30000,40000  offered flows/s per step, cluster-wide
//   BENCH_STEP_SECONDS=10   BENCH_FOLLOWERS=raw,cli   BENCH_TIMEOUT_S=1500 (hard stop)
//   BENCH_METRICS=0         skip the metrics pass: the raw ladder once more with the agents'
//                           flow metrics off (their observer hook removed), then /metrics scrape
//                           time (p50 of 30 rounds per agent) and series per node; last line
//                           metrics live_ratio=<max lossless with / without> scrape_ms=… series_per_node=…
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  RELAY_SOCKET,
  cli,
  delta,
  labLayout,
  labRunning,
  sampleAgents,
  serverStatus,
  sum,
  type AgentSample,
  type LabNode,
} from './live/lab.js';
import {
  planLoad,
  planReachableLoad,
  runLoad,
  startServers,
  type LoadPlan,
  type LoadReport,
} from './live/load.js';
import type { FollowerReply, FollowerRequest, LostNotice } from './live/types.js';
import { measureScrapes, setFlowMetrics } from './live/metrics.js';

const STEPS = (process.env.BENCH_STEPS ?? '5000,10000,20000,30000,40000').split(',').map(Number);
const STEP_MS = Number(process.env.BENCH_STEP_SECONDS ?? 10) * 1000;
const FOLLOWERS = (process.env.BENCH_FOLLOWERS ?? 'raw,cli').split(',') as ('raw' | 'cli')[];
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 1500) * 1000;
/** BENCH_METRICS=0 skips the metrics-off pass (the raw ladder again without the metrics hook). */
const METRICS_PASS = process.env.BENCH_METRICS !== '0';
const CALIBRATION_CONNS_PER_S = 150;
const CALIBRATION_MS = 4000;
/** The longest wait for the agents to go quiet, and for the follower to catch up, after a step. */
const SETTLE_MAX_MS = 15_000;
const CATCH_UP_MAX_MS = 20_000;
const DRAIN_MAX_MS = 30_000;

class Follower {
  private readonly child: ChildProcess;
  private waiting: ((reply: FollowerReply) => void) | undefined;
  ended: string | undefined;

  constructor(readonly kind: 'raw' | 'cli') {
    this.child = fork(fileURLToPath(new URL('./live/follower.ts', import.meta.url)), [kind, RELAY_SOCKET], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: FollowerReply) => {
      if (reply.type === 'ended') this.ended = `${reply.code} ${reply.details}`;
      else this.waiting?.(reply);
    });
    this.child.on('exit', (code) => (this.ended ??= `follower process exited (${code})`));
  }

  ask<T extends FollowerReply['type']>(
    request: FollowerRequest,
  ): Promise<Extract<FollowerReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} follower did not answer`)), 10_000);
      this.waiting = (reply) => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(reply as Extract<FollowerReply, { type: T }>);
      };
      this.child.send(request);
    });
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await this.ask<'ready'>({ type: 'ready' })).connected) {
      if (this.ended) throw new Error(`${this.kind} follower ended: ${this.ended}`);
      if (Date.now() > deadline) throw new Error(`${this.kind} follower received nothing in 15 s`);
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.disconnect(); // the follower cancels its stream (and stops its CLI) and exits
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if ((await Promise.race([exited, sleep(3000, 'late')])) === 'late') this.child.kill('SIGKILL');
  }
}

interface StepResult {
  label: string;
  offeredFlowsPerS: number;
  connsPerS: number;
  load: LoadReport;
  seconds: number;
  seen: number;
  agentFlowsPerS: number;
  received: number;
  kernelLost: number;
  queueLost: number;
  relayLost: number;
  unreported: number;
  lostEndToEnd: number;
  agentCpuPct: number;
  cpuPctPer10k: number;
  rssMiB: Record<string, number>;
  ring: AgentSample['ring'];
  meanFlowBytes: number;
  machineBusyPct: number;
}

/** Busy share of all CPUs since the previous reading, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Waits until the agents' seen_flows stop rising faster than the background rate. */
async function settle(nodes: LabNode[], backgroundPerS: number): Promise<AgentSample> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let last = await sampleAgents(nodes);
  for (;;) {
    await sleep(500);
    const now = await sampleAgents(nodes);
    const rise = sum(now.seen) - sum(last.seen);
    if (rise <= Math.max(10, backgroundPerS) || Date.now() > deadline) return now;
    last = now;
  }
}

/**
 * Each node's window between two samples: (its newest flow time at the first, at the second],
 * exactly the flows its seen_flows counted in between.
 */
function nodeWindows(
  before: AgentSample,
  after: AgentSample,
): Record<string, { fromMicros: number; toMicros: number }> {
  return Object.fromEntries(
    Object.keys(after.seen).map((node) => [
      node,
      { fromMicros: before.newestMicros[node] ?? 0, toMicros: after.newestMicros[node] ?? 0 },
    ]),
  );
}

/** Asks the follower for the windows until it has flows from every node newer than its window's end. */
async function receivedIn(
  follower: Follower,
  nodes: LabNode[],
  before: AgentSample,
  after: AgentSample,
): Promise<Extract<FollowerReply, { type: 'window' }>> {
  const deadline = Date.now() + CATCH_UP_MAX_MS;
  const perNode = nodeWindows(before, after);
  for (;;) {
    const reply = await follower.ask<'window'>({
      type: 'window',
      fromMicros: before.atMicros,
      toMicros: after.atMicros,
      perNode,
    });
    const caughtUp = nodes.every(
      (n) => (reply.newestMicros[n.name] ?? 0) >= (perNode[n.name]?.toMicros ?? 0),
    );
    if (caughtUp || Date.now() > deadline || follower.ended) return reply;
    await sleep(250);
  }
}

/**
 * Waits until the follower receives no faster than the lab's background traffic (at most
 * DRAIN_MAX_MS): whatever it still had queued has arrived.
 */
async function drained(follower: Follower, backgroundPerS: number): Promise<void> {
  const deadline = Date.now() + DRAIN_MAX_MS;
  const count = async () =>
    (await follower.ask<'window'>({ type: 'window', fromMicros: 0, toMicros: 0 })).flows;
  let last = await count();
  while (Date.now() < deadline) {
    await sleep(1000);
    const now = await count();
    if (now - last <= Math.max(50, 2 * backgroundPerS)) return;
    last = now;
  }
}

function lostBy(notices: LostNotice[], nodes: LabNode[]): { queue: number; relay: number } {
  const agents = new Set(nodes.map((n) => n.name));
  let queue = 0;
  let relay = 0;
  for (const l of notices) {
    if (l.source === 'OBSERVER_EVENTS_QUEUE' && agents.has(l.node)) queue += l.count;
    else if (l.source !== 'PERF_EVENT_RING_BUFFER') relay += l.count; // the relay's own, or unknown
  }
  return { queue, relay };
}

async function runStep(
  label: string,
  offeredFlowsPerS: number,
  connsPerS: number,
  durationMs: number,
  ctx: { plan: LoadPlan; nodes: LabNode[]; follower: Follower; backgroundPerS: number },
): Promise<StepMeasurement> {
  const { plan, nodes, follower } = ctx;
  const machineBefore = machineTicks();
  const before = await sampleAgents(nodes);
  const ratePerClient = connsPerS / plan.clients.length;
  const load = await runLoad(plan, ratePerClient, durationMs);
  const after = await settle(nodes, ctx.backgroundPerS);
  const machineAfter = machineTicks();
  // a follower still behind would start the next step with a full queue: give it time to drain
  await receivedIn(follower, nodes, before, after);
  return { label, offeredFlowsPerS, connsPerS, load, before, after, machineBefore, machineAfter };
}

interface StepMeasurement {
  label: string;
  offeredFlowsPerS: number;
  connsPerS: number;
  load: LoadReport;
  before: AgentSample;
  after: AgentSample;
  machineBefore: { busy: number; total: number };
  machineAfter: { busy: number; total: number };
}

/**
 * A step's figures, asked of the follower once the whole ladder has drained: flows of a step that
 * arrive late still count for it, and only what never arrives is lost.
 */
async function account(m: StepMeasurement, follower: Follower, nodes: LabNode[]): Promise<StepResult> {
  const { label, offeredFlowsPerS, connsPerS, load, before, after, machineBefore, machineAfter } = m;
  const seconds = (after.atMicros - before.atMicros) / 1e6;
  const window = await follower.ask<'window'>({
    type: 'window',
    fromMicros: before.atMicros,
    toMicros: after.atMicros,
    perNode: nodeWindows(before, after),
  });
  const seen = sum(delta(after.seen, before.seen));
  const received = sum(window.perNode);
  const kernelLost = sum(delta(after.kernelLost, before.kernelLost));
  const { queue, relay } = lostBy(window.lost, nodes);
  // Rates are per second of load (the flows are made then; the settle only adds their tail), so
  // they compare with the offered rate; CPU per 10k flows/s does not depend on the divisor.
  const loadSeconds = load.seconds || seconds;
  const agentCpuPct = (sum(delta(after.cpuSeconds, before.cpuSeconds)) / loadSeconds) * 100;
  const agentFlowsPerS = seen / loadSeconds;
  return {
    label,
    offeredFlowsPerS,
    connsPerS,
    load,
    seconds,
    seen,
    agentFlowsPerS,
    received,
    kernelLost,
    queueLost: queue,
    relayLost: relay,
    unreported: seen - received - queue - relay,
    lostEndToEnd: kernelLost + Math.max(0, seen - received),
    agentCpuPct,
    cpuPctPer10k: agentFlowsPerS > 0 ? agentCpuPct / (agentFlowsPerS / 10_000) : NaN,
    rssMiB: after.rssMiB,
    ring: after.ring,
    meanFlowBytes: window.meanFlowBytes,
    machineBusyPct:
      ((machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total)) *
      100,
  };
}

const k = (n: number) => (Math.abs(n) >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0));

function printStep(follower: string, r: StepResult): void {
  const conns = r.load.started / Math.max(r.load.seconds, 1e-9);
  const errors = Object.entries(r.load.errors)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  console.log(
    `${follower} ${r.label}: offered ${k(r.offeredFlowsPerS)} flows/s = ${r.connsPerS.toFixed(0)} conn/s; ` +
      `achieved ${conns.toFixed(0)} conn/s (${r.load.completed} ok, ${r.load.failed} failed${errors ? `: ${errors}` : ''}, ${r.load.shed} shed); ` +
      `agents saw ${r.seen} flows = ${k(r.agentFlowsPerS)} flows/s (window ${r.seconds.toFixed(1)} s); ` +
      `received ${r.received} (${((r.received / Math.max(1, r.seen)) * 100).toFixed(1)}%); ` +
      `lost kernel ${r.kernelLost} queue ${r.queueLost} relay ${r.relayLost} unreported ${r.unreported}; ` +
      `agent CPU ${r.agentCpuPct.toFixed(0)}% of a core (${r.cpuPctPer10k.toFixed(1)}%/10k flows/s), machine ${r.machineBusyPct.toFixed(0)}% busy; ` +
      `RSS ${Object.values(r.rssMiB)
        .map((m) => m.toFixed(0))
        .join('/')} MiB; ` +
      `ring ${Object.values(r.ring)
        .map((x) => `${x.numFlows}/${x.maxFlows}`)
        .join(' ')}`,
  );
}

/** The highest lossless step (by agent flows/s), else the highest step. */
function highestStep(steps: StepResult[]): { best: StepResult; lossless: boolean } {
  const highest = (xs: StepResult[]) => xs.reduce((a, b) => (b.agentFlowsPerS > a.agentFlowsPerS ? b : a));
  const lossless = steps.filter((s) => s.lostEndToEnd === 0);
  return lossless.length
    ? { best: highest(lossless), lossless: true }
    : { best: highest(steps), lossless: false };
}

const maxFlows = (r: StepResult) => Math.max(...Object.values(r.ring).map((x) => x.maxFlows));

/** flowBytes: the mean encoded flow response, as the raw follower measured it (CLI lines are JSON). */
function summaryLine(prefix: string, steps: StepResult[], flowBytes: number): string {
  const { best, lossless } = highestStep(steps);
  const ringMiB = (maxFlows(best) * flowBytes) / 2 ** 20;
  return (
    `${prefix} max_lossless_flows_per_s=${lossless ? best.agentFlowsPerS.toFixed(0) : 0} ` +
    `delivered_ratio_at_max=${(best.received / Math.max(1, best.seen)).toFixed(3)} ` +
    `agent_cpu_pct_per_10k=${best.cpuPctPer10k.toFixed(1)} ring_mib=${ringMiB.toFixed(1)}`
  );
}

async function waitForRelay(nodes: LabNode[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const st = await serverStatus(RELAY_SOCKET);
      if ((st.connectedNodes ?? 0) >= nodes.length) return;
    } catch {
      // the relay is starting
    }
    if (Date.now() > deadline) throw new Error(`the relay is not connected to all ${nodes.length} agents`);
    await sleep(500);
  }
}

async function ladder(
  kind: 'raw' | 'cli',
  plan: LoadPlan,
  nodes: LabNode[],
  calibration: { flowsPerConn: number; backgroundPerS: number } | undefined,
): Promise<{ steps: StepResult[]; flowsPerConn: number; backgroundPerS: number }> {
  const follower = new Follower(kind);
  try {
    await follower.ready();
    const ctx = { plan, nodes, follower, backgroundPerS: 0 };
    const idle = await account(await runStep('idle', 0, 0, 3000, ctx), follower, nodes);
    ctx.backgroundPerS = idle.agentFlowsPerS;
    printStep(kind, idle);
    let flowsPerConn = calibration?.flowsPerConn;
    if (!flowsPerConn) {
      const cal = await account(
        await runStep('calibration', 0, CALIBRATION_CONNS_PER_S, CALIBRATION_MS, ctx),
        follower,
        nodes,
      );
      printStep(kind, cal);
      flowsPerConn = (cal.seen - ctx.backgroundPerS * cal.seconds) / Math.max(1, cal.load.completed);
      console.log(
        `${kind} calibration: ${flowsPerConn.toFixed(2)} agent flows per connection (background ${ctx.backgroundPerS.toFixed(0)} flows/s)`,
      );
    }
    const measured: StepMeasurement[] = [];
    for (const [i, offered] of STEPS.entries()) {
      const connsPerS = Math.max(1, (offered - ctx.backgroundPerS) / flowsPerConn);
      measured.push(await runStep(`step ${i + 1}`, offered, connsPerS, STEP_MS, ctx));
      process.stderr.write(`${kind} step ${i + 1} (${offered} flows/s offered) done\n`);
      if (follower.ended) throw new Error(`the ${kind} follower's stream ended: ${follower.ended}`);
    }
    await drained(follower, ctx.backgroundPerS);
    const steps: StepResult[] = [];
    for (const m of measured) {
      const r = await account(m, follower, nodes);
      printStep(kind, r);
      steps.push(r);
    }
    return { steps, flowsPerConn, backgroundPerS: ctx.backgroundPerS };
  } finally {
    await follower.stop();
  }
}

async function main(): Promise<void> {
  let ownLab = false;
  if (!labRunning()) {
    const up = cli('lab', 'up');
    if (up.code !== 0) throw new Error(`lab up failed: ${up.out.trim().split('\n').slice(-3).join(' | ')}`);
    ownLab = true;
  }
  // a lab just brought up is still settling (JIT, first handshakes): let it, as bench:datapath does
  if (ownLab) await sleep(5000);
  const started = Date.now();
  const layout = labLayout();
  const servers = await startServers(planLoad(layout));
  const plan = await planReachableLoad(layout).catch(async (err: unknown) => {
    await servers.stop();
    throw err;
  });
  console.log(
    `load: ${plan.clients.map((c) => `${c.pod.name} -> ${c.targets.join(' + ')}`).join('; ')} (fresh connections, one GET each)`,
  );
  const hardStop = setTimeout(() => {
    console.error(`bench:live: hard timeout after ${TIMEOUT_MS / 1000} s`);
    void servers.stop().finally(() => {
      if (ownLab) cli('lab', 'down');
      process.exit(1);
    });
  }, TIMEOUT_MS);
  try {
    await waitForRelay(layout.nodes);
    let calibration: { flowsPerConn: number; backgroundPerS: number } | undefined;
    const passes: { kind: 'raw' | 'cli'; steps: StepResult[] }[] = [];
    for (const kind of FOLLOWERS) {
      const run = await ladder(kind, plan, layout.nodes, calibration);
      calibration ??= run;
      passes.push({ kind, steps: run.steps });
    }
    // the raw follower's figures are the headline; the CLI's are printed beside them
    const headline = passes.find((p) => p.kind === 'raw') ?? passes[0]!;
    const { best, lossless } = highestStep(headline.steps);
    const flowBytes = best.meanFlowBytes;
    for (const pass of passes.filter((p) => p !== headline))
      console.log(summaryLine(pass.kind, pass.steps, flowBytes));
    console.log(
      lossless
        ? `max lossless: ${best.label} of the ${headline.kind} follower; ratio and CPU are that step's`
        : `no step was lossless for the ${headline.kind} follower: max_lossless_flows_per_s=0, ratio and CPU are those of the highest step (${best.label})`,
    );
    console.log(
      `ring bytes estimated: capacity ${maxFlows(best)} x ${flowBytes.toFixed(0)} B mean ${headline.kind === 'raw' ? 'encoded flow response' : 'JSON line (no raw pass)'} (the observer does not report its ring's bytes)`,
    );
    let metricsLine: string | undefined;
    if (METRICS_PASS) {
      // the same steps with the agents' flow metrics off; the passes above ran with them on
      const maxLossless = (steps: StepResult[]) => {
        const h = highestStep(steps);
        return h.lossless ? h.best.agentFlowsPerS : 0;
      };
      await setFlowMetrics(layout.nodes, false);
      let off: StepResult[];
      try {
        off = (await ladder('raw', plan, layout.nodes, calibration)).steps;
      } finally {
        await setFlowMetrics(layout.nodes, true);
      }
      console.log(summaryLine('metrics-off', off, flowBytes));
      const on = passes.find((p) => p.kind === 'raw')?.steps ?? headline.steps;
      const scrapes = measureScrapes(layout.nodes);
      const series = Object.values(scrapes.seriesPerNode);
      console.log(
        `metrics: scrape p50 ${scrapes.p50Ms.toFixed(1)} ms, p90 ${scrapes.p90Ms.toFixed(1)} ms; series ${Object.entries(
          scrapes.seriesPerNode,
        )
          .map(([n, c]) => `${n}=${c}`)
          .join(
            ' ',
          )}; max lossless with ${maxLossless(on).toFixed(0)} / without ${maxLossless(off).toFixed(0)} flows/s; ` +
          `agent CPU per 10k flows/s at those steps with ${highestStep(on).best.cpuPctPer10k.toFixed(1)}% / without ${highestStep(off).best.cpuPctPer10k.toFixed(1)}%` +
          (highestStep(on).best === on.at(-1) && highestStep(off).best === off.at(-1)
            ? ' (both lossless at the top step: the ratio is bounded by the ladder)'
            : ''),
      );
      metricsLine =
        `metrics live_ratio=${(maxLossless(on) / Math.max(1, maxLossless(off))).toFixed(3)} ` +
        `scrape_ms=${scrapes.p50Ms.toFixed(1)} series_per_node=${Math.max(...series)}`;
    }
    console.log(`run time ${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(summaryLine('live', headline.steps, flowBytes));
    if (metricsLine) console.log(metricsLine);
  } finally {
    clearTimeout(hardStop);
    await servers.stop();
    if (ownLab) {
      const down = cli('lab', 'down');
      if (down.code !== 0)
        console.error(`bench:live: lab down failed, the lab is still up: ${down.out.trim()}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(`bench:live: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
