// `lab stop NAME` and `lab start NAME`: one lab process down on purpose, or up again as it was.
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from './errors.js';
import { withLabLock } from './lock.js';
import { isAlive, sendSignal } from './process.js';
import { startDaemon, type Daemon } from './shell.js';
import { readState, writeState, type DaemonRecord, type LabState } from './state.js';

/**
 * Stops one lab process by name (etcd, agent-node1, relay, pod-shop-api, …) and waits for it to
 * exit. It is marked stopped on purpose first, so the supervisor leaves it down until `lab start`;
 * a process that had already died (the relay between a crash and its restart) is just marked.
 */
export function stopComponent(name: string): Promise<{ daemon: Daemon; wasRunning: boolean }> {
  return withLabLock(() => stopComponentLocked(name));
}

async function stopComponentLocked(name: string): Promise<{ daemon: Daemon; wasRunning: boolean }> {
  const state = requireState();
  const daemon = findDaemon(state, name);
  const wasRunning = isAlive(daemon.pid);
  if (!wasRunning && daemon.stoppedAt)
    throw new Error(`${name} is not running (stopped at ${daemon.stoppedAt})`);
  writeState({
    ...state,
    daemons: state.daemons.map((d) => (d.name === name ? { ...d, stoppedAt: new Date().toISOString() } : d)),
  });
  if (!wasRunning) return { daemon, wasRunning };
  sendSignal(daemon.pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (isAlive(daemon.pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(daemon.pid)) sendSignal(daemon.pid, 'SIGKILL');
  while (isAlive(daemon.pid)) await sleep(20);
  return { daemon, wasRunning };
}

/** Starts a stopped lab process again with its original command line; records the new pid. */
export function startComponent(name: string): Promise<Daemon> {
  return withLabLock(() => startComponentLocked(name));
}

async function startComponentLocked(name: string): Promise<Daemon> {
  const state = requireState();
  const daemon = findDaemon(state, name);
  if (isAlive(daemon.pid)) throw new Error(`${name} is already running (pid ${daemon.pid})`);
  // A new record: no stoppedAt (the supervisor watches it again); its restart history stays.
  const next: DaemonRecord = {
    ...startDaemon(daemon.name, daemon.namespace, daemon.argv, daemon.env),
    ...(daemon.restarts ? { restarts: daemon.restarts } : {}),
    ...(daemon.lastRestart ? { lastRestart: daemon.lastRestart } : {}),
  };
  writeState({ ...state, daemons: state.daemons.map((d) => (d.name === name ? next : d)) });
  return next;
}

/** The running lab's state, or a LabError saying that no lab runs. */
export function requireState(): LabState {
  const state = readState();
  if (!state) throw new LabError("no lab is running; start one with 'wirescope lab up'");
  return state;
}

function findDaemon(state: LabState, name: string): DaemonRecord {
  const daemon = state.daemons.find((d) => d.name === name);
  if (!daemon)
    throw new LabError(`no lab process "${name}"; accepted: ${state.daemons.map((d) => d.name).join(', ')}`);
  return daemon;
}
