import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../exec.js';
import { processRuns } from '../process.js';
import { AgentError, AgentErrorCode } from '../errors.js';
import type { WireguardMechanism } from '../config.js';

/** How long wireguard-go may take to answer on its UAPI socket. */
const WIREGUARD_GO_START_MS = 15_000;

export interface WireguardDevice {
  mechanism: 'kernel' | 'wireguard-go';
  name: string;
  /** Set for wireguard-go: the userspace process carrying the tunnel. */
  pid: number | undefined;
  /** True when an already running device was adopted (agent restart). */
  adopted: boolean;
}

/** wireguard-go's UAPI sockets live here for every network namespace alike. */
export const WIREGUARD_SOCKET_DIR = '/var/run/wireguard';

/**
 * What is wrong with a device this agent runs, without starting a process (checked every
 * second): its link is gone (wireguard-go exited, or someone deleted it) or wireguard-go died.
 */
export function deviceProblem(device: WireguardDevice): string | undefined {
  if (device.pid !== undefined && !processRuns(device.pid))
    return `wireguard-go (pid ${device.pid}) serving ${device.name} exited`;
  if (!existsSync(`/sys/class/net/${device.name}`)) return `WireGuard device ${device.name} vanished`;
  return undefined;
}

async function deviceResponds(name: string): Promise<boolean> {
  try {
    await run('wg', ['show', name, 'public-key']);
    return true;
  } catch {
    return false;
  }
}

async function linkKind(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('ip', ['-d', '-j', 'link', 'show', 'dev', name]);
    const [link] = JSON.parse(stdout) as { linkinfo?: { info_kind?: string } }[];
    return link?.linkinfo?.info_kind ?? 'unknown';
  } catch {
    return undefined;
  }
}

/**
 * Adopts the device if it is already up (an agent restart must not disturb live tunnels), else
 * creates it: kernel WireGuard when the module exists, wireguard-go (TUN) otherwise.
 */
export async function ensureDevice(
  name: string,
  mechanism: WireguardMechanism,
  stateDir: string,
  log: (message: string) => void,
): Promise<WireguardDevice> {
  const pidFile = join(stateDir, 'wireguard-go.pid');
  const recordedPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
  const kind = await linkKind(name);
  if (kind !== undefined && (await deviceResponds(name))) {
    const isKernel = kind === 'wireguard';
    const pid = !isKernel && recordedPid !== undefined && processRuns(recordedPid) ? recordedPid : undefined;
    log(`wireguard: adopting running device ${name} (${isKernel ? 'kernel' : 'wireguard-go'})`);
    return { mechanism: isKernel ? 'kernel' : 'wireguard-go', name, pid, adopted: true };
  }
  if (kind !== undefined) {
    // A link with our name but nobody answering on it: left over by a crashed wireguard-go.
    await run('ip', ['link', 'del', 'dev', name]).catch(() => {});
  }
  if (recordedPid !== undefined && processRuns(recordedPid)) process.kill(recordedPid, 'SIGTERM');

  if (mechanism !== 'wireguard-go') {
    try {
      await run('ip', ['link', 'add', 'dev', name, 'type', 'wireguard']);
      log(`wireguard: created kernel device ${name}`);
      return { mechanism: 'kernel', name, pid: undefined, adopted: false };
    } catch (err) {
      if (mechanism === 'kernel') {
        throw new AgentError(
          AgentErrorCode.WIREGUARD_FAILED,
          `kernel WireGuard unavailable: ${(err as Error).message}`,
        );
      }
      log('wireguard: no kernel module, falling back to wireguard-go');
    }
  }

  // One retry when wireguard-go exits at once: seen once in ~10 lab ups right after another lab's
  // teardown (exit 1 within 66 ms); the second attempt's error carries both logs' last lines.
  const first = await startWireguardGo(name, stateDir, log);
  if (first.device) return first.device;
  if (first.exitCode === null) throw first.error;
  log(`wireguard: wireguard-go exited with ${first.exitCode} at once (${first.logTail}); trying again`);
  await sleep(500);
  const second = await startWireguardGo(name, stateDir, log);
  if (second.device) return second.device;
  throw second.error;
}

type StartAttempt =
  | { device: WireguardDevice }
  | { device?: undefined; exitCode: number | null; logTail: string; error: AgentError };

async function startWireguardGo(
  name: string,
  stateDir: string,
  log: (message: string) => void,
): Promise<StartAttempt> {
  const pidFile = join(stateDir, 'wireguard-go.pid');
  const logPath = join(stateDir, 'wireguard-go.log');
  rmSync(join(WIREGUARD_SOCKET_DIR, `${name}.sock`), { force: true });
  const logStart = existsSync(logPath) ? statSync(logPath).size : 0;
  const logFd = openSync(logPath, 'a');
  // Detached and in the foreground: its lifetime is ours to manage through the pid file, and it
  // outlives an agent restart so that tunnels keep carrying traffic meanwhile.
  const child = spawn('wireguard-go', ['-f', name], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined)
    throw new AgentError(AgentErrorCode.WIREGUARD_FAILED, 'wireguard-go could not be started');
  child.unref();
  writeFileSync(pidFile, `${pid}\n`);
  // by the clock, not a count of tries: on a loaded machine each probe (a `wg` process) is slow
  const started = Date.now();
  while (Date.now() - started < WIREGUARD_GO_START_MS) {
    if (await deviceResponds(name)) {
      log(`wireguard: wireguard-go pid ${pid} serving ${name}`);
      return { device: { mechanism: 'wireguard-go', name, pid, adopted: false } };
    }
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  const logTail = readLogTail(logPath, logStart);
  const exitCode = child.exitCode;
  return {
    exitCode,
    logTail,
    error: new AgentError(
      AgentErrorCode.WIREGUARD_FAILED,
      `wireguard-go did not bring up ${name} within ${(Date.now() - started) / 1000}s` +
        `${exitCode !== null ? ` (it exited with ${exitCode})` : ''}: ${logTail} (see ${logPath})`,
    ),
  };
}

/** What wireguard-go wrote since offset, last lines joined on one line ("no output" if nothing). */
function readLogTail(path: string, offset: number): string {
  try {
    const text = readFileSync(path).subarray(offset).toString('utf8').trim();
    return text ? text.split('\n').slice(-3).join(' | ') : 'no output';
  } catch (err) {
    return `log unreadable: ${(err as Error).message}`;
  }
}

/** Stops a wireguard-go we started and removes the device (used on deliberate teardown only). */
export async function destroyDevice(device: WireguardDevice): Promise<void> {
  if (device.pid !== undefined && processRuns(device.pid)) process.kill(device.pid, 'SIGTERM');
  await run('ip', ['link', 'del', 'dev', device.name]).catch(() => {});
}
