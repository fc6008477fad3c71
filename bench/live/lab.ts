// What bench:live reads from the running lab: its layout (`lab status -o json`), each agent's own
// counters (ServerStatus on its plain hubble socket, /v1/datapath on its local API) and each
// agent process's CPU time and memory from /proc. Everything goes through unix sockets and /proc:
// the root namespace never sends to a lab address.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { agentRequest } from '@wirescope/agent';
import { makeClient, methods, unary } from '@wirescope/observer';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${ROOT}apps/cli/dist/bin.js`;
export const LAB_DIR = '/run/wirescope-lab';
export const RELAY_SOCKET = `unix://${LAB_DIR}/relay.sock`;
const CLK_TCK = 100;

export function cli(...args: string[]): { code: number; out: string } {
  const res = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: res.status ?? -1, out: `${res.stdout}${res.stderr}` };
}

export interface LabNode {
  name: string;
  agentPid: number;
  agentSocket: string;
  hubbleSocket: string;
}

export interface LabPod {
  name: string;
  node: string;
  ip: string;
  netns: string;
  workload: string;
}

export interface LabLayout {
  nodes: LabNode[];
  pods: LabPod[];
}

export function labRunning(): boolean {
  try {
    readFileSync(`${LAB_DIR}/state.json`);
    return true;
  } catch {
    return false;
  }
}

export function labLayout(): LabLayout {
  const res = cli('lab', 'status', '-o', 'json');
  const status = JSON.parse(res.out.slice(res.out.indexOf('{'))) as {
    running: boolean;
    nodes: { name: string; agentPid: number; agentSocket: string }[];
    pods: LabPod[];
  };
  if (!status.running) throw new Error('the lab is not running');
  return {
    nodes: status.nodes.map((n) => ({
      name: n.name,
      agentPid: n.agentPid,
      agentSocket: n.agentSocket,
      hubbleSocket: n.agentSocket.replace(/agent\.sock$/, 'hubble.sock'),
    })),
    pods: status.pods,
  };
}

export interface ObserverStatus {
  seenFlows: number;
  numFlows: number;
  maxFlows: number;
  connectedNodes?: number;
}

/**
 * A saturated agent answered ServerStatus in more than 5 s (its event loop also missed etcd lease
 * renewals then): the bench waits longer rather than abort the step.
 */
export async function serverStatus(address: string, deadlineMs = 20_000): Promise<ObserverStatus> {
  const client = makeClient(address, grpc.credentials.createInsecure());
  try {
    const st = await unary(client, methods.observer.serverStatus, {}, { deadlineMs });
    return {
      seenFlows: Number(st.seenFlows),
      numFlows: Number(st.numFlows),
      maxFlows: Number(st.maxFlows),
      connectedNodes: st.numConnectedNodes,
    };
  } finally {
    client.close();
  }
}

/** The datapath's running total of kernel ring-buffer reservation failures, summed over CPUs. */
export async function kernelLost(agentSocket: string): Promise<number> {
  const status = await agentRequest<{ stats?: { lostEvents?: number } }>(agentSocket, 'GET', '/v1/datapath', {
    timeoutMs: 20_000,
  });
  return status.stats?.lostEvents ?? 0;
}

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** One reading of every agent, taken at one moment. */
export interface AgentSample {
  atMicros: number;
  seen: Record<string, number>;
  /** Time of the newest flow in each agent's ring, read with `seen` in one answer. */
  newestMicros: Record<string, number>;
  kernelLost: Record<string, number>;
  cpuSeconds: Record<string, number>;
  rssMiB: Record<string, number>;
  ring: Record<string, { numFlows: number; maxFlows: number }>;
}

export async function sampleAgents(nodes: LabNode[]): Promise<AgentSample> {
  const atMicros = Date.now() * 1000;
  const sample: AgentSample = {
    atMicros,
    seen: {},
    newestMicros: {},
    kernelLost: {},
    cpuSeconds: {},
    rssMiB: {},
    ring: {},
  };
  await Promise.all(
    nodes.map(async (n) => {
      if (!alive(n.agentPid)) throw new Error(`agent ${n.name} (pid ${n.agentPid}) is gone`);
      sample.cpuSeconds[n.name] = cpuSeconds(n.agentPid);
      sample.rssMiB[n.name] = rssMiB(n.agentPid);
      const [newest, lost] = await Promise.all([newestFlow(n.agentSocket), kernelLost(n.agentSocket)]);
      sample.seen[n.name] = newest.seen;
      sample.newestMicros[n.name] = newest.micros;
      sample.ring[n.name] = { numFlows: newest.inRing, maxFlows: newest.capacity };
      sample.kernelLost[n.name] = lost;
    }),
  );
  return sample;
}

/**
 * The agent's newest flow and its counters from one local-API answer (GET /v1/flows?last=1): the
 * flows seen_flows counted up to now are exactly those up to this flow's time.
 */
async function newestFlow(
  agentSocket: string,
): Promise<{ seen: number; micros: number; inRing: number; capacity: number }> {
  const reply = await agentRequest<{
    flows: { flow: { time?: string } }[];
    counters: { flowsSeen: number; flowsInRing: number; capacity: number };
  }>(agentSocket, 'GET', '/v1/flows?last=1', { timeoutMs: 20_000 });
  const time = reply.flows[0]?.flow.time;
  return {
    seen: reply.counters.flowsSeen,
    micros: time ? rfc3339Micros(time) : 0,
    inRing: reply.counters.flowsInRing,
    capacity: reply.counters.capacity,
  };
}

/** RFC 3339 with up to 9 fractional digits -> Unix µs (Date.parse keeps only ms). */
export function rfc3339Micros(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return Date.parse(text) * 1000;
  let end = dot + 1;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
  const whole = Date.parse(text.slice(0, dot) + text.slice(end));
  return whole * 1000 + Number(`${text.slice(dot + 1, end)}000000`.slice(0, 6));
}

export const sum = (values: Record<string, number>): number =>
  Object.values(values).reduce((a, b) => a + b, 0);

/** Per-node differences between two readings. */
export function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}
