// Datapath overhead: iperf3 between two pods on two lab nodes through WireGuard, with the eBPF
// datapath (steering + probes + aggregation) attached versus detached (POST /v1/datapath/attach
// on every agent: the agents keep running, the WireGuard mesh and the route-based steering keep
// forwarding). Paired rounds in one run, the order alternating (ABBA) so that drift favours
// neither side; the first rounds are warm-up and discarded; the figure is the median of the
// per-round ratios with their quartiles and extremes on the same line. Meanwhile the CPU of every
// agent and of the two wireguard-go processes, and afterwards, in a transfer of its own, the
// kernel's run time of each BPF program. Then the policy arm: the same rounds with a 100-rule
// policy selecting both pods (50 egress rules on the client, 50 ingress rules on the server, one
// of each allowing the iperf3 connection) versus no policy at all (the lab's default policies are
// removed for the arm and put back after). Only lab namespaces carry traffic.
//
//   npm run bench:datapath      (brings a lab up and down unless one is already running)
//   BENCH_ROUNDS=8 BENCH_WARMUP=1 BENCH_SECONDS=4 BENCH_POLICY_ROUNDS=4 (0: no policy arm) BENCH_PIN=0 BENCH_NICE=
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli } from './live/lab.js';
import {
  bpfProgramCosts,
  cpuPercent,
  cpuReading,
  hostCpuTicks,
  labThreads,
  pinProcess,
  reniceThreads,
  udpRcvbufErrors,
  wireguardGoPid,
  wireguardRcvbuf,
} from './datapath/host.js';
import { formatSpread, median, spread } from './datapath/stats.js';
import {
  DEFAULT_POLICIES,
  POLICY_FILE,
  benchPolicy,
  datapathAttached,
  policyProgrammed,
  setAttached,
} from './datapath/agents.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const POLICY_ROUNDS = Number(process.env.BENCH_POLICY_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
/** iperf3 -O: TCP's slow start is left out of every figure */
const OMIT = 1;
/**
 * BENCH_PIN=1: one CPU per side (client + its wireguard-go, server + its wireguard-go). Off by
 * default: on this 2-core machine it made the rounds no steadier (12 rounds: IQR 0.727..0.956
 * pinned, 0.726..0.920 not), and single transfers fell to 66 Mbit/s, wireguard-go's goroutines
 * sharing one CPU.
 */
const PIN = process.env.BENCH_PIN === '1' && availableParallelism() >= 2;
/**
 * BENCH_NICE=-10: every thread in the lab's namespaces (agents, wireguard-go, pods, the iperf3 server)
 * and the iperf3 client at that nice value, put back afterwards: both arms ahead of whatever else
 * loads the machine (other work on a shared machine is most of a round's spread). Off by default:
 * one run each, minutes apart on a shared machine, IQR 0.888..0.997 at nice -10 against
 * 0.834..0.977 without, range 0.815..1.108 against 0.808..1.090: no steadier that anyone can tell.
 */
const NICE = process.env.BENCH_NICE ? Number(process.env.BENCH_NICE) : undefined;
const CLIENT_NS = 'wsl-node1-shop-loadgen';
const SERVER_NS = 'wsl-node2-shop-api';
const SERVER_IP = '10.244.2.10';
const PORT = 5401;
const NODES = ['node1', 'node2', 'node3'];
const CLIENT_CPU = 0;
const SERVER_CPU = 1;

function must(what: string, res: { code: number; out: string }): void {
  if (res.code !== 0) throw new Error(`${what} failed: ${res.out.trim().split('\n').slice(-3).join(' | ')}`);
}

function labState(): { daemons: { name: string; pid: number }[] } | undefined {
  try {
    return JSON.parse(readFileSync('/run/wirescope-lab/state.json', 'utf8')) as {
      daemons: { name: string; pid: number }[];
    };
  } catch {
    return undefined;
  }
}

/**
 * The processes whose CPU each transfer reports: the agents, the two nodes' wireguard-go, and the
 * relay and UI server, which only have flows to carry while the datapath is attached.
 */
function watchedPids(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of labState()?.daemons ?? []) {
    const node = /^agent-(.+)$/.exec(d.name)?.[1];
    if (node && NODES.includes(node)) out[`agent-${node}`] = d.pid;
    if (d.name === 'relay' || d.name === 'ui') out[d.name] = d.pid;
  }
  for (const node of ['node1', 'node2']) {
    const pid = wireguardGoPid(`wsl-wg-${node}`);
    if (pid) out[`wg-${node}`] = pid;
  }
  return out;
}

const pinned = (cpu: number, argv: string[]) => [
  ...(NICE !== undefined ? ['nice', '-n', String(NICE)] : []),
  ...(PIN ? ['taskset', '-c', String(cpu)] : []),
  ...argv,
];

/**
 * One transfer; a control-connection failure (seen once right after lab up: the first
 * cross-node connection reset while the lab settled) is retried, at most twice.
 */
function iperf(): { mbps: number; retransmits: number } {
  for (let attempt = 1; ; attempt++) {
    try {
      return iperfOnce();
    } catch (err) {
      if (attempt >= 3) throw err;
      process.stderr.write(`${(err as Error).message}; retrying (${attempt}/2)\n`);
      spawnSync('sleep', ['1']);
    }
  }
}

function iperfOnce(): { mbps: number; retransmits: number } {
  const client = [
    'iperf3',
    '-c',
    SERVER_IP,
    '-p',
    String(PORT),
    '-t',
    String(SECONDS),
    '-O',
    String(OMIT),
    '-J',
  ];
  const res = spawnSync('ip', ['netns', 'exec', CLIENT_NS, ...pinned(CLIENT_CPU, client)], {
    encoding: 'utf8',
    timeout: (SECONDS + OMIT + 20) * 1000,
  });
  const parsed = JSON.parse(res.stdout || '{}') as {
    end?: { sum_received?: { bits_per_second?: number }; sum_sent?: { retransmits?: number } };
    error?: string;
  };
  const bps = parsed.end?.sum_received?.bits_per_second;
  if (!bps) throw new Error(`iperf3 failed: ${parsed.error ?? res.stderr}`);
  return { mbps: bps / 1e6, retransmits: parsed.end?.sum_sent?.retransmits ?? 0 };
}

interface Sample {
  mbps: number;
  /** TCP retransmits of the transfer, and UDP datagrams the nodes dropped for a full socket buffer */
  retransmits: number;
  udpRcvbufErrors: number;
  /** the whole machine's busy share (every CPU, every process: other work on it included) */
  hostBusyPct: number;
  /** percent of one core per watched process (agent-nodeN, wg-nodeN) */
  cpu: Record<string, number>;
}

async function measure(): Promise<Sample> {
  const pids = watchedPids();
  const agents = Object.entries(pids).filter(([k]) => k.startsWith('agent-'));
  const rcvbuf = () => agents.reduce((sum, [, pid]) => sum + udpRcvbufErrors(pid), 0);
  const before = cpuReading(pids);
  const dropsBefore = rcvbuf();
  const hostBefore = hostCpuTicks();
  const started = process.hrtime.bigint();
  const { mbps, retransmits } = iperf();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuPercent(before, cpuReading(pids), elapsed);
  const host = hostCpuTicks();
  const hostBusyPct = ((host.busy - hostBefore.busy) / (host.total - hostBefore.total)) * 100;
  return { mbps, retransmits, udpRcvbufErrors: rcvbuf() - dropsBefore, hostBusyPct, cpu };
}

/**
 * Until the agents are quiet (the busiest under 10% of a core over a second, twice in a row) or
 * `maxMs` passed: right after lab up or a re-attach an agent is still loading and syncing, and a
 * transfer then measures that, not the datapath.
 */
async function settle(maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    const pids = Object.fromEntries(Object.entries(watchedPids()).filter(([k]) => k.startsWith('agent-')));
    const before = cpuReading(pids);
    await sleep(1000);
    const busiest = Math.max(...Object.values(cpuPercent(before, cpuReading(pids), 1)));
    quiet = busiest < 10 ? quiet + 1 : 0;
  }
}

/** Two arms of a comparison: `enter` puts the lab in that arm's state (a no-op when it is). */
interface Arm {
  name: string;
  enter: () => Promise<void>;
}

interface Paired {
  test: Sample[];
  base: Sample[];
  ratios: number[];
}

/**
 * WARMUP + rounds rounds of test vs base, each round A B B A (test, base, base, test): a drift
 * that is linear over the round cancels out of its ratio mean(test) / mean(base), and only every
 * other transfer follows a change of state (rounds join A A).
 */
async function pairedRounds(label: string, test: Arm, base: Arm, rounds: number): Promise<Paired> {
  const out: Paired = { test: [], base: [], ratios: [] };
  const total = WARMUP + rounds;
  for (let round = 0; round < total; round++) {
    const warm = round < WARMUP;
    const got: { test: Sample[]; base: Sample[] } = { test: [], base: [] };
    for (const [side, arm] of [
      ['test', test],
      ['base', base],
      ['base', base],
      ['test', test],
    ] as const) {
      await arm.enter();
      const sample = await measure();
      got[side].push(sample);
      const cpu = Object.entries(sample.cpu)
        .map(([k, v]) => `${k} ${v.toFixed(1)}%`)
        .join(', ');
      console.log(
        `${label} round ${round + 1}/${total}${warm ? ' (warm-up, discarded)' : ''} ${arm.name.padEnd(6)} ${sample.mbps.toFixed(0)} Mbit/s, ${sample.retransmits} retransmits, ${sample.udpRcvbufErrors} UDP rcvbuf drops; host ${sample.hostBusyPct.toFixed(0)}% busy; CPU ${cpu}`,
      );
    }
    if (warm) continue;
    const mbps = (xs: Sample[]) => xs.reduce((a, x) => a + x.mbps, 0);
    out.test.push(...got.test);
    out.base.push(...got.base);
    out.ratios.push(mbps(got.test) / mbps(got.base));
  }
  return out;
}

/** Medians over samples: each process's CPU, the busiest agent's, retransmits, UDP drops, host. */
function cpuSummary(samples: Sample[]): { perProcess: string; busiestAgent: number } {
  const keys = Object.keys(samples[0]?.cpu ?? {});
  const perProcess = [
    ...keys.map((k) => `${k}=${median(samples.map((s) => s.cpu[k] ?? NaN)).toFixed(1)}`),
    `retransmits=${median(samples.map((s) => s.retransmits)).toFixed(0)}`,
    `udp_rcvbuf_drops=${median(samples.map((s) => s.udpRcvbufErrors)).toFixed(0)}`,
    `host_busy_pct=${median(samples.map((s) => s.hostBusyPct)).toFixed(0)}`,
  ].join(' ');
  const busiestAgent = median(
    samples.map((s) =>
      Math.max(
        ...Object.entries(s.cpu)
          .filter(([k]) => k.startsWith('agent-'))
          .map(([, v]) => v),
      ),
    ),
  );
  return { perProcess, busiestAgent };
}

/**
 * The policy arm: no policy at all versus 100 rules on both pods, paired per round (the lab's
 * default policies are removed for it and put back after).
 */
async function policyArm(): Promise<Paired> {
  must('policy delete (lab defaults)', cli('policy', 'delete', '-f', DEFAULT_POLICIES));
  writeFileSync(POLICY_FILE, benchPolicy(PORT));
  let policyOn = false;
  const policy = (want: boolean): Arm => ({
    name: want ? 'policy' : 'none',
    enter: async () => {
      if (policyOn === want) return;
      if (want) must('policy apply', cli('policy', 'apply', '-f', POLICY_FILE));
      else must('policy delete', cli('policy', 'delete', 'bench-100-rules', '-n', 'shop'));
      policyOn = want;
      await policyProgrammed(want);
    },
  });
  try {
    await policyProgrammed(false);
    return await pairedRounds('policy', policy(true), policy(false), POLICY_ROUNDS);
  } finally {
    rmSync(POLICY_FILE, { force: true });
    cli('policy', 'delete', 'bench-100-rules', '-n', 'shop');
    cli('policy', 'apply', '-f', DEFAULT_POLICIES);
  }
}

async function main(): Promise<void> {
  let ownLab = false;
  if (!labState()) {
    must('lab up', cli('lab', 'up'));
    ownLab = true;
  }
  const unpin: (() => void)[] = [];
  const server = spawn(
    'ip',
    ['netns', 'exec', SERVER_NS, ...pinned(SERVER_CPU, ['iperf3', '-s', '-p', String(PORT)])],
    { stdio: 'ignore' },
  );
  let attached = true;
  const datapath = (want: boolean): Arm => ({
    name: want ? 'probes' : 'bare',
    enter: async () => {
      if (attached === want) return;
      await setAttached(NODES, want);
      attached = want;
      await settle(10_000);
    },
  });
  try {
    const deadline = Date.now() + 20_000;
    while (!(await datapathAttached())) {
      if (Date.now() > deadline)
        throw new Error('the lab agents do not run the eBPF datapath (--datapath bpf)');
      await sleep(200);
    }
    if (PIN) {
      for (const [node, cpu] of [
        ['node1', CLIENT_CPU],
        ['node2', SERVER_CPU],
      ] as const) {
        const pid = wireguardGoPid(`wsl-wg-${node}`);
        if (!pid) throw new Error(`no wireguard-go for ${node}`);
        unpin.push(pinProcess(pid, cpu));
      }
    }
    // threads the agents start later (a re-attach, a resync's child) inherit their creator's value
    if (NICE !== undefined) unpin.push(reniceThreads(labThreads(), NICE));
    const rcvbuf = ['node1', 'node2'].map((n) => `${n}=${wireguardRcvbuf(`wsl-${n}`) ?? '?'}`).join(' ');
    console.log(
      `datapath: ${WARMUP} warm-up + ${ROUNDS} rounds of 4 transfers (ABBA) of ${SECONDS} s (iperf3 -O ${OMIT}); ` +
        (PIN
          ? `pinned: iperf3 client + wireguard-go node1 on CPU ${CLIENT_CPU}, server + wireguard-go node2 on CPU ${SERVER_CPU}`
          : 'not pinned') +
        (NICE !== undefined ? `; lab threads at nice ${NICE}` : '') +
        `; wireguard-go UDP receive buffer (bytes): ${rcvbuf}`,
    );
    await settle(30_000);
    const dp = await pairedRounds('datapath', datapath(true), datapath(false), ROUNDS);
    await datapath(true).enter();

    // the kernel's own accounting of the programs, in a transfer that is not one of the rounds
    let mbpsWithStats = 0;
    const costs = await bpfProgramCosts(async () => {
      const started = process.hrtime.bigint();
      mbpsWithStats = iperf().mbps;
      return Number(process.hrtime.bigint() - started) / 1e9;
    });
    const bpfCpu = costs.reduce((a, c) => a + c.cpuPct, 0);

    const pol = POLICY_ROUNDS > 0 ? await policyArm() : undefined;

    const attachedCpu = cpuSummary(dp.test);
    const detachedCpu = cpuSummary(dp.base);
    console.log(
      `datapath per-round ratios (probes/bare, ABBA): ${dp.ratios.map((r) => r.toFixed(3)).join(' ')}`,
    );
    console.log(
      `datapath CPU during the transfers, median (CPU in % of one core): attached ${attachedCpu.perProcess}`,
    );
    console.log(
      `datapath CPU during the transfers, median (CPU in % of one core): detached ${detachedCpu.perProcess}`,
    );
    console.log(
      `datapath bpf programs (own transfer, ${mbpsWithStats.toFixed(0)} Mbit/s, kernel.bpf_stats_enabled): ` +
        costs
          .map(
            (c) =>
              `${c.name} runs=${c.runs} ns_per_run=${c.nsPerRun.toFixed(0)} cpu_pct=${c.cpuPct.toFixed(2)}`,
          )
          .join('; '),
    );
    if (pol) {
      console.log(
        `policy per-round ratios (policy/none, ABBA): ${pol.ratios.map((r) => r.toFixed(3)).join(' ')}`,
      );
      console.log(
        `datapath policy_mbps=${median(pol.test.map((s) => s.mbps)).toFixed(0)} no_policy_mbps=${median(pol.base.map((s) => s.mbps)).toFixed(0)} ${formatSpread('policy_ratio', spread(pol.ratios))} rounds=${pol.ratios.length} target=0.98`,
      );
    }
    console.log(
      `datapath probes_mbps=${median(dp.test.map((s) => s.mbps)).toFixed(0)} bare_mbps=${median(dp.base.map((s) => s.mbps)).toFixed(0)} ${formatSpread('ratio', spread(dp.ratios))} rounds=${dp.ratios.length} pinned=${PIN ? 'yes' : 'no'}${NICE !== undefined ? ` nice=${NICE}` : ''} agent_cpu_pct=${attachedCpu.busiestAgent.toFixed(1)} agent_cpu_bare_pct=${detachedCpu.busiestAgent.toFixed(1)} bpf_cpu_pct=${bpfCpu.toFixed(1)} target=0.97`,
    );
  } finally {
    if (!attached) await setAttached(NODES, true).catch(() => undefined);
    for (const undo of unpin) undo();
    server.kill();
    if (ownLab) cli('lab', 'down');
  }
}

main().catch((err: unknown) => {
  console.error(`bench:datapath: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
