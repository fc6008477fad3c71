// Shared by the lab e2e tests: run the CLI, run commands inside lab namespaces, capture on the
// fabric with tcpdump (ground truth) and read the pcap.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentRequest, type EncryptStatusResponse, type HealthResponse } from '@wirescope/agent';
import { tcxPrograms } from '@wirescope/libbpf';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = `${ROOT}apps/cli/dist/bin.js`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

// A zombie is a gone process: PID 1 on this kind of machine reaps dead lab daemons only a second
// or two after they exit, and `lab stop`/`lab down` (rightly) do not wait for that.
export { processRuns } from '@wirescope/agent';

export function cli(...args: string[]): CliResult {
  const res = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

const LAB_LOGS = '/run/wirescope-lab/logs';

/**
 * `wirescope lab up` that, when it fails, appends the end of every lab daemon's log to stderr:
 * the lab is removed by the tests' after hooks, so a CI failure must carry its own evidence.
 */
export function labUp(...args: string[]): CliResult {
  const up = cli('lab', 'up', ...args);
  if (up.code === 0) return up;
  let logs = '';
  try {
    for (const name of readdirSync(LAB_LOGS).filter((n) => !n.startsWith('pod-'))) {
      const lines = readFileSync(`${LAB_LOGS}/${name}`, 'utf8').trimEnd().split('\n').slice(-12);
      logs += `\n--- ${LAB_LOGS}/${name} (last ${lines.length} lines)\n${lines.join('\n')}`;
    }
  } catch (err) {
    logs += `\n(no lab logs: ${(err as Error).message})`;
  }
  return { ...up, stderr: up.stderr + logs };
}

/** Deletes a node's permanent record from the lab's etcd (as an operator removing a node would). */
export function deleteNodeRecord(node: string): void {
  const del = inNs(
    'wsl-cp',
    'etcdctl',
    '--endpoints',
    'http://127.0.0.1:2379',
    'del',
    `/wirescope/nodes/${node}`,
  );
  if (del.stdout.trim() !== '1')
    throw new Error(`etcdctl del /wirescope/nodes/${node}: ${del.stdout}${del.stderr}`);
}

/** Like cli(), without blocking the event loop (for running several CLI processes at once). */
export function cliAsync(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close' waits for the output streams too ('exit' can come before their last bytes).
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs a command inside a lab namespace (pods, nodes, fabric); never from the root namespace. */
export function inNs(namespace: string, ...argv: string[]): CliResult {
  const res = spawnSync('ip', ['netns', 'exec', namespace, ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/**
 * What the kernel runs on one tc hook of a lab node, both kinds: its cls_bpf filters (the lines
 * `tc filter show` prints) and its TCX programs (ids from BPF_PROG_QUERY, which tc cannot see).
 */
export function hookPrograms(
  namespace: string,
  ifname: string,
  direction: 'ingress' | 'egress',
): { filters: string[]; tcx: number[] } {
  const filters = inNs(namespace, 'tc', 'filter', 'show', 'dev', ifname, direction)
    .stdout.split('\n')
    .filter((l) => l.includes(' bpf ') && l.includes(' handle '));
  return { filters, tcx: tcxPrograms({ ifname, direction, netns: namespace }) };
}

/** HTTP GET from inside a pod with curl; returns status code and body. */
export function podGet(podNs: string, url: string, timeoutSeconds = 5): { status: number; body: string } {
  const res = inNs(podNs, 'curl', '-s', '-m', String(timeoutSeconds), '-o', '-', '-w', '\n%{http_code}', url);
  const lines = res.stdout.split('\n');
  const status = Number(lines.pop() ?? '0');
  return { status, body: lines.join('\n') };
}

export type NodeEncrypt = EncryptStatusResponse;

export function encryptStatus(node: string): Promise<NodeEncrypt> {
  return agentRequest(`/run/wirescope-lab/${node}/agent.sock`, 'GET', '/v1/encrypt');
}

export function agentHealth(node: string): Promise<HealthResponse> {
  return agentRequest(`/run/wirescope-lab/${node}/agent.sock`, 'GET', '/healthz');
}

/** Polls until `check` returns a value (not undefined) or the bound passes; returns the value. */
export async function eventually<T>(
  what: string,
  boundMs: number,
  check: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + boundMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`not within ${boundMs} ms: ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(100);
  }
}

export interface Frame {
  etherType: number;
  src?: string;
  dst?: string;
  protocol?: number;
  srcPort?: number;
  dstPort?: number;
  arp?: { sender: string; target: string };
  bytes: Buffer;
}

const ip4 = (b: Buffer, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** Minimal pcap (Ethernet) reader: enough to classify every frame by L2/L3/L4. */
export function readPcap(path: string): Frame[] {
  const data = readFileSync(path);
  if (data.length < 24) return [];
  const magic = data.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${path}: not a little-endian pcap`);
  const frames: Frame[] = [];
  for (let off = 24; off + 16 <= data.length;) {
    const length = data.readUInt32LE(off + 8);
    const bytes = data.subarray(off + 16, off + 16 + length);
    off += 16 + length;
    if (bytes.length < 14) continue;
    const etherType = bytes.readUInt16BE(12);
    const frame: Frame = { etherType, bytes };
    if (etherType === 0x0800 && bytes.length >= 34) {
      const ihl = ((bytes[14] ?? 0) & 0x0f) * 4;
      frame.protocol = bytes[23];
      frame.src = ip4(bytes, 26);
      frame.dst = ip4(bytes, 30);
      if ((frame.protocol === 6 || frame.protocol === 17) && bytes.length >= 14 + ihl + 4) {
        frame.srcPort = bytes.readUInt16BE(14 + ihl);
        frame.dstPort = bytes.readUInt16BE(14 + ihl + 2);
      }
    } else if (etherType === 0x0806 && bytes.length >= 42) {
      frame.arp = { sender: ip4(bytes, 28), target: ip4(bytes, 38) };
    }
    frames.push(frame);
  }
  return frames;
}

/** Captures on the fabric bridge (inside the fabric namespace) while `during` runs. */
export async function captureFabric<T>(
  name: string,
  during: () => Promise<T> | T,
): Promise<{ frames: Frame[]; result: T }> {
  const file = `/tmp/wsl-e2e-${name}-${process.pid}.pcap`;
  const tcpdump = spawn(
    'ip',
    // Immediate mode: without it packets wait in the kernel ring for up to a second and a short
    // capture stopped by SIGINT would record nothing.
    [
      'netns',
      'exec',
      'wsl-fabric',
      'tcpdump',
      '-i',
      'br0',
      '-nn',
      '--immediate-mode',
      '-U',
      '-s',
      '0',
      '-w',
      file,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  tcpdump.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await eventually('tcpdump to start listening', 10_000, () =>
    stderr.includes('listening on') ? true : undefined,
  );
  try {
    const result = await during();
    await sleep(300);
    const frames = await stop();
    return { frames, result };
  } catch (err) {
    await stop();
    throw err;
  }
  async function stop(): Promise<Frame[]> {
    const exited = new Promise((resolve) => tcpdump.once('exit', resolve));
    tcpdump.kill('SIGINT');
    await exited;
    const frames = readPcap(file);
    // Ground truth must be complete: tcpdump's own count has to match what we read.
    const captured = /(\d+) packets? captured/.exec(stderr);
    if (!captured || Number(captured[1]) !== frames.length) {
      throw new Error(
        `capture incomplete: tcpdump said ${JSON.stringify(stderr.trim())}, read ${frames.length} frames`,
      );
    }
    rmSync(file, { force: true });
    return frames;
  }
}
