// The load side of bench:live: bench/live/loadgen.c (compiled here with cc) started inside pod
// namespaces with `ip netns exec` (the root namespace never sends to a lab address). One server and one client
// pod per node; each client alternates between the server on its own node (same-node, never
// encrypted) and the server on the next node (cross-node, through WireGuard).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LabLayout, LabPod } from './lab.js';

const LOADGEN_SRC = fileURLToPath(new URL('./loadgen.c', import.meta.url));
const LOADGEN = fileURLToPath(new URL('../.output/loadgen', import.meta.url));
export const LOAD_PORT = Number(process.env.BENCH_LOAD_PORT ?? 5402);

export interface LoadPlan {
  servers: LabPod[];
  clients: { pod: LabPod; targets: string[] }[];
}

export interface LoadReport {
  started: number;
  completed: number;
  failed: number;
  shed: number;
  seconds: number;
  errors: Record<string, number>;
}

/** A server pod (an http-server workload) and client candidates on every node. */
function serversAndCandidates(layout: LabLayout): { servers: LabPod[]; candidates: LabPod[][] } {
  const servers: LabPod[] = [];
  const candidates: LabPod[][] = [];
  for (const node of layout.nodes) {
    const pods = layout.pods.filter((p) => p.node === node.name && p.ip && p.netns);
    const server = pods.find((p) => p.workload === 'http-server') ?? pods[0];
    const others = pods.filter((p) => p !== server);
    if (!server || others.length === 0)
      throw new Error(`node ${node.name} needs two pods for the load generator`);
    servers.push(server);
    candidates.push(others);
  }
  return { servers, candidates };
}

const targetsOf = (servers: LabPod[], i: number) =>
  [servers[i]!, servers[(i + 1) % servers.length]!].map((s) => `${s.ip}:${LOAD_PORT}`);

/** A server pod and a different client pod on every node (the first candidate on each). */
export function planLoad(layout: LabLayout): LoadPlan {
  const { servers, candidates } = serversAndCandidates(layout);
  return { servers, clients: candidates.map((c, i) => ({ pod: c[0]!, targets: targetsOf(servers, i) })) };
}

/**
 * Like planLoad, but each node's client is the first pod whose connections to both its targets
 * succeed (a short probe, servers running): the lab's network policies deny some pairs (the
 * untrusted namespace may not call shop/api), and a client whose SYNs are dropped measures
 * retransmissions and timeouts instead of the live path.
 */
export async function planReachableLoad(layout: LabLayout): Promise<LoadPlan> {
  const { servers, candidates } = serversAndCandidates(layout);
  const clients: LoadPlan['clients'] = [];
  for (const [i, pods] of candidates.entries()) {
    const targets = targetsOf(servers, i);
    let chosen: LabPod | undefined;
    const refused: string[] = [];
    for (const pod of pods) {
      const probe = await runLoad({ servers, clients: [{ pod, targets }] }, 20, 500);
      if (probe.completed > 0 && probe.failed === 0) {
        chosen = pod;
        break;
      }
      refused.push(`${pod.name} (${probe.failed} of ${probe.started} failed)`);
    }
    if (!chosen)
      throw new Error(`no pod on ${pods[0]?.node} reaches ${targets.join(' and ')}: ${refused.join(', ')}`);
    if (refused.length)
      console.log(`load: ${refused.join(', ')} cannot reach ${targets.join(' + ')}; using ${chosen.name}`);
    clients.push({ pod: chosen, targets });
  }
  return { servers, clients };
}

/** Compiles the load generator when its binary is missing or older than its source. */
export function buildLoadgen(): void {
  if (existsSync(LOADGEN) && statSync(LOADGEN).mtimeMs > statSync(LOADGEN_SRC).mtimeMs) return;
  mkdirSync(fileURLToPath(new URL('../.output/', import.meta.url)), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', LOADGEN, LOADGEN_SRC], { stdio: 'inherit' });
}

function inPod(pod: LabPod, args: string[]): ChildProcess {
  buildLoadgen();
  return spawn('ip', ['netns', 'exec', pod.netns, LOADGEN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function firstLine(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`${what}: no answer in ${timeoutMs} ms: ${err}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.slice(0, out.indexOf('\n')));
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-1000)));
    // 'close', not 'exit': a generator that prints its report and exits at once can be seen to
    // exit before its last stdout bytes are read
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${err.trim()}`));
    });
  });
}

/** Starts the servers; stop() ends them by their pids. */
export async function startServers(plan: LoadPlan): Promise<{ stop(): Promise<void> }> {
  const children = plan.servers.map((pod) => ({
    pod,
    child: inPod(pod, ['serve', String(LOAD_PORT)]),
  }));
  const stop = async () => {
    await Promise.all(
      children.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        await once(child, 'exit');
      }),
    );
  };
  try {
    await Promise.all(
      children.map(({ pod, child }) => firstLine(child, `load server in ${pod.name}`, 10_000)),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

/**
 * One step: every client opens `ratePerClient` connections/s for durationMs. Each generator stops
 * by itself; one still running durationMs + 15 s later is killed by its pid.
 */
export async function runLoad(
  plan: LoadPlan,
  ratePerClient: number,
  durationMs: number,
): Promise<LoadReport> {
  const runs = plan.clients.map(async ({ pod, targets }) => {
    const child = inPod(pod, ['load', String(ratePerClient), String(durationMs), ...targets]);
    const killer = setTimeout(() => child.kill('SIGKILL'), durationMs + 15_000);
    try {
      return JSON.parse(
        await firstLine(child, `load generator in ${pod.name}`, durationMs + 20_000),
      ) as LoadReport;
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  const reports = await Promise.all(runs);
  const total: LoadReport = { started: 0, completed: 0, failed: 0, shed: 0, seconds: 0, errors: {} };
  for (const r of reports) {
    total.started += r.started;
    total.completed += r.completed;
    total.failed += r.failed;
    total.shed += r.shed;
    total.seconds = Math.max(total.seconds, r.seconds);
    for (const [code, n] of Object.entries(r.errors)) total.errors[code] = (total.errors[code] ?? 0) + n;
  }
  return total;
}
