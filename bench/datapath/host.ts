// What bench:datapath reads and sets on the host, outside the lab's APIs: the CPU time of the lab's
// processes (/proc), their CPU affinity (taskset) and nice values (renice), both put back afterwards,
// wireguard-go's socket buffer (ss), and the kernel's own per program run time of the datapath's BPF
// programs (kernel.bpf_stats_enabled, put back afterwards).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds } from '../live/lab.js';

export const DATAPATH_PROGRAMS = [
  'from_endpoint',
  'to_endpoint',
  'to_crypto',
  'from_crypto',
  'to_network',
  'from_network',
  'kfree_skb',
] as const;

/** wireguard-go's pid for a lab WireGuard interface (the agent starts it: `wireguard-go -f IFACE`). */
export function wireguardGoPid(iface: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('wireguard-go') && argv.includes(iface)) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/**
 * UDP datagrams dropped for a full socket buffer in the network namespace of `pid` (Udp
 * RcvbufErrors of its /proc/PID/net/snmp): wireguard-go's socket overflowing when it falls behind.
 */
export function udpRcvbufErrors(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/net/snmp`, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp: '));
  const names = lines[0]?.split(' ') ?? [];
  const values = lines[1]?.split(' ') ?? [];
  return Number(values[names.indexOf('RcvbufErrors')] ?? 0);
}

/** Busy and total ticks of every CPU together (/proc/stat): busy excludes idle and iowait. */
export function hostCpuTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** CPU seconds of each named process, read at one moment; a process that is gone reads NaN. */
export function cpuReading(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => {
      try {
        return [name, cpuSeconds(pid)];
      } catch {
        return [name, NaN];
      }
    }),
  );
}

/** Percent of one core each process used between two readings `seconds` apart. */
export function cpuPercent(
  before: Record<string, number>,
  after: Record<string, number>,
  seconds: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, (((after[k] ?? NaN) - (before[k] ?? NaN)) / seconds) * 100]),
  );
}

/**
 * Pins every thread of a process to one CPU (`taskset -a`: Go creates threads as it goes and they
 * inherit the mask); returns how to put the previous mask back.
 */
export function pinProcess(pid: number, cpu: number): () => void {
  const previous = /affinity mask: ([0-9a-f]+)/.exec(
    execFileSync('taskset', ['-p', String(pid)], { encoding: 'utf8' }),
  )?.[1];
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  return () => {
    if (!previous) return;
    try {
      execFileSync('taskset', ['-a', '-p', previous, String(pid)], { stdio: 'ignore' });
    } catch {
      // the process is gone: nothing to put back
    }
  };
}

interface ProgramRun {
  name: string;
  runs: number;
  ns: number;
}

function programRuns(): Map<number, ProgramRun> {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as {
    id: number;
    name?: string;
    run_cnt?: number;
    run_time_ns?: number;
  }[];
  const names = new Set<string>(DATAPATH_PROGRAMS);
  const out = new Map<number, ProgramRun>();
  for (const p of progs) {
    if (p.name && names.has(p.name))
      out.set(p.id, { name: p.name, runs: p.run_cnt ?? 0, ns: p.run_time_ns ?? 0 });
  }
  return out;
}

export interface ProgramCost {
  name: string;
  runs: number;
  nsPerRun: number;
  /** percent of one core over the measured interval */
  cpuPct: number;
}

/**
 * Runs `during` with the kernel's BPF run-time accounting on and returns, per program name (summed
 * over the agents' objects), runs and run time in that interval. The accounting itself adds two
 * clock reads per run, so these figures come from a transfer of their own, never a paired round.
 */
export async function bpfProgramCosts(during: () => Promise<number>): Promise<ProgramCost[]> {
  const sysctl = '/proc/sys/kernel/bpf_stats_enabled';
  const previous = readFileSync(sysctl, 'utf8').trim();
  execFileSync('sysctl', ['-q', '-w', 'kernel.bpf_stats_enabled=1']);
  let before: Map<number, ProgramRun>;
  let after: Map<number, ProgramRun>;
  let seconds: number;
  try {
    before = programRuns();
    seconds = await during();
    after = programRuns();
  } finally {
    execFileSync('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${previous}`]);
  }
  const byName = new Map<string, { runs: number; ns: number }>();
  for (const [id, run] of after) {
    const prev = before.get(id) ?? { runs: 0, ns: 0 };
    const sum = byName.get(run.name) ?? { runs: 0, ns: 0 };
    sum.runs += run.runs - prev.runs;
    sum.ns += run.ns - prev.ns;
    byName.set(run.name, sum);
  }
  return DATAPATH_PROGRAMS.map((name) => {
    const { runs, ns } = byName.get(name) ?? { runs: 0, ns: 0 };
    return { name, runs, nsPerRun: runs ? ns / runs : 0, cpuPct: (ns / 1e9 / seconds) * 100 };
  });
}

/**
 * The receive buffer limit (bytes, `ss` skmem rb) of wireguard-go's IPv4 UDP socket in a node's
 * namespace: what it holds before the kernel drops datagrams with SOCKET_RCVBUFF.
 */
export function wireguardRcvbuf(namespace: string, port = 51871): number | undefined {
  try {
    // the IPv4 socket is listed before the IPv6 one (`-4` lists neither on this iproute2)
    const out = execFileSync('ip', ['netns', 'exec', namespace, 'ss', '-H', '-uamn', `sport = :${port}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const rb = /skmem:\([^)]*\brb(\d+)/.exec(out)?.[1];
    return rb ? Number(rb) : undefined;
  } catch {
    return undefined;
  }
}

/** Every thread of every process in the lab's network namespaces (agents, wireguard-go, pods, iperf3). */
export function labThreads(prefix = 'wsl-'): number[] {
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
  const tids: number[] = [];
  for (const ns of namespaces) {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        tids.push(...readdirSync(`/proc/${pid}/task`).map(Number));
      } catch {
        // exited meanwhile
      }
    }
  }
  return tids;
}

/** A thread's nice value (field 19 of /proc/TID/stat); undefined when it is gone. */
function niceOf(tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  } catch {
    return undefined;
  }
}

/**
 * Sets the nice value of each thread (setpriority is per thread on Linux: a process's other threads
 * keep theirs, and new threads inherit their creator's); returns how to put the previous values back.
 */
export function reniceThreads(tids: number[], nice: number): () => void {
  const previous = new Map<number, number[]>();
  for (const tid of tids) {
    const value = niceOf(tid);
    if (value === undefined || value === nice) continue;
    previous.set(value, [...(previous.get(value) ?? []), tid]);
  }
  const apply = (value: number, list: number[]) => {
    if (list.length === 0) return;
    // a thread that exited meanwhile makes renice exit non-zero; the others are set all the same
    spawnSync('renice', ['-n', String(value), '-p', ...list.map(String)], { stdio: 'ignore' });
  };
  apply(nice, [...previous.values()].flat());
  return () => {
    for (const [value, list] of previous) apply(value, list);
  };
}
