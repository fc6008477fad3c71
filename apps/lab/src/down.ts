// `lab down` (and the cleanup before a `lab up`): every process the lab made, found by namespace,
// by the state file and by a /proc scan for the root-namespace ones; then the namespaces and files.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { restoreHostSettings } from './host-sysctl.js';
import { withLabLock } from './lock.js';
import {
  ALERTMANAGER_SOCKET,
  LAB_BPFFS,
  LAB_DIR,
  PREFIX,
  PROMETHEUS_SOCKET,
  RELAY_SOCKET,
  UI_PORT,
  UI_SOCKET,
  WIREGUARD_SOCKET_DIR,
} from './names.js';
import { commandLineOf, isAlive, sendSignal } from './process.js';
import { LOOPBACK_MAIN, SUPERVISOR_MAIN, UI_MAIN } from './programs.js';
import { run } from './shell.js';
import { readState, type DaemonRecord } from './state.js';

export type Progress = (message: string) => void;

export interface DownResult {
  namespaces: string[];
  processes: number;
}

/** Lab namespaces present on the machine (ours by prefix), whether or not a state file exists. */
export async function labNamespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${PREFIX}-`));
}

function processesIn(namespace: string): Promise<number[]> {
  return run('ip', ['netns', 'pids', namespace]).then(
    (out) => out.split('\n').filter(Boolean).map(Number),
    () => [],
  );
}

/**
 * Removes everything the lab made, whether or not a state file survived: every process inside a
 * lab namespace, recorded daemons, the namespaces (and with them every link), wireguard-go
 * sockets, and /run/wirescope-lab; puts back the host settings it raised (host-sysctl.ts).
 */
export function labDown(progress?: Progress): Promise<DownResult> {
  return withLabLock(() => labDownLocked(), progress);
}

/** Pid reuse guard: the pid still runs the program recorded for it (its first two arguments). */
function runsRecordedProgram(daemon: DaemonRecord): boolean {
  return commandLineOf(daemon.pid).startsWith(`${daemon.argv.slice(0, 2).join('\0')}\0`);
}

/** labDown for a caller that already holds the lab lock (`lab up` removing leftovers). */
export async function labDownLocked(): Promise<DownResult> {
  const namespaces = await labNamespaces();
  const pids = new Set<number>();
  for (const ns of namespaces) for (const pid of await processesIn(ns)) pids.add(pid);
  for (const daemon of readState()?.daemons ?? []) {
    if (isAlive(daemon.pid) && runsRecordedProgram(daemon)) pids.add(daemon.pid);
  }
  // The root-namespace forward and the supervisor are in no lab namespace: found by their exact
  // command lines even when the state file is gone (a crashed run), or the forward would keep
  // 127.0.0.1:4245 from the next lab and the supervisor would outlive the lab.
  for (const pid of rootNamespacePids()) pids.add(pid);
  for (const pid of pids) sendSignal(pid, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while ([...pids].some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) if (isAlive(pid)) sendSignal(pid, 'SIGKILL');
  while ([...pids].some(isAlive) && Date.now() < deadline + 2000) await sleep(50);
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns]).catch(() => {});
  if (existsSync(WIREGUARD_SOCKET_DIR)) {
    for (const name of readdirSync(WIREGUARD_SOCKET_DIR)) {
      if (name.startsWith(`${PREFIX}-`)) rmSync(join(WIREGUARD_SOCKET_DIR, name), { force: true });
    }
  }
  restoreHostSettings();
  // the namespaces are gone, and with their interfaces every link pinned here
  if (isMountPoint(LAB_BPFFS)) await run('umount', [LAB_BPFFS]).catch(() => {});
  rmSync(LAB_DIR, { recursive: true, force: true });
  return { namespaces, processes: pids.size };
}

export function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === path);
}

/** The sockets of the lab's root-namespace forwards: the relay's, Prometheus's, Alertmanager's, the UI's. */
const LOOPBACK_SOCKETS = [RELAY_SOCKET, PROMETHEUS_SOCKET, ALERTMANAGER_SOCKET, UI_SOCKET];

function rootNamespacePids(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = commandLineOf(Number(entry)).split('\0');
    if (
      (argv[1] === LOOPBACK_MAIN && LOOPBACK_SOCKETS.includes(argv[3] ?? '')) ||
      argv[1] === SUPERVISOR_MAIN ||
      (argv[1] === UI_MAIN && argv.includes(`127.0.0.1:${UI_PORT}`))
    )
      found.push(Number(entry));
  }
  return found;
}
