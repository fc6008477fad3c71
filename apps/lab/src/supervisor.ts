// The lab's supervisor: what the kubelet does for the relay's Deployment in a real cluster. It
// watches the relay and its root-namespace forward by pid and restarts one that died unexpectedly,
// with backoff; a daemon stopped on purpose (`lab stop NAME`) stays down until `lab start NAME`.
// Agents and etcd are not supervised: the fault tests kill them and expect them down.
import { readFileSync } from 'node:fs';
import type { DaemonRecord, LabState } from './state.js';
import type { Daemon } from './shell.js';

/** The daemons the supervisor restarts. */
export const SUPERVISED: readonly string[] = ['relay', 'relay-forward'];
export const SUPERVISOR_DAEMON = 'supervisor';

export interface Backoff {
  /** Wait before the first restart after a death. */
  initialMs: number;
  /** The wait doubles with every restart that died again, up to this. */
  maxMs: number;
  /** A daemon that stayed up this long is healthy again: its next restart waits initialMs. */
  resetAfterMs: number;
}

/** Like the kubelet's CrashLoopBackOff, scaled down: 0.5 s doubling to 10 s, reset after 30 s up. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 10_000, resetAfterMs: 30_000 };

export interface Observation {
  name: string;
  pid: number;
  /** isAlive(pid): a zombie is dead (a SIGKILLed daemon whose parent is PID 1 stays one). */
  alive: boolean;
  /** Stopped on purpose (`lab stop`): never restarted. */
  stopped: boolean;
}

export type Decision =
  | { action: 'none' }
  | { action: 'leave'; why: 'stopped on purpose' }
  | { action: 'wait'; restartAt: number; delayMs: number }
  | { action: 'restart'; delayMs: number };

interface Track {
  pid: number;
  /** When this pid was started by us, or first seen. */
  upSince: number;
  /** Restarts since the daemon last stayed up resetAfterMs: the backoff exponent. */
  failures: number;
  /** When the current death was noticed and the restart it waits for. */
  deadSince?: number;
  restartAt?: number;
  delayMs?: number;
}

/**
 * The supervisor's decisions, free of clocks and processes (the caller passes both in), so that
 * backoff, deliberate stops and zombies are unit-tested without a lab.
 */
export class RestartPolicy {
  private readonly tracks = new Map<string, Track>();

  constructor(private readonly backoff: Backoff = DEFAULT_BACKOFF) {}

  delayFor(failures: number): number {
    return Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** failures);
  }

  decide(o: Observation, now: number): Decision {
    let track = this.tracks.get(o.name);
    // A pid we did not start (lab up, lab start): a fresh daemon, no backoff history.
    if (!track || track.pid !== o.pid) {
      track = { pid: o.pid, upSince: now, failures: 0 };
      this.tracks.set(o.name, track);
    }
    if (o.stopped) {
      delete track.deadSince;
      delete track.restartAt;
      return { action: 'leave', why: 'stopped on purpose' };
    }
    if (o.alive) return { action: 'none' };
    if (track.restartAt === undefined) {
      if (now - track.upSince >= this.backoff.resetAfterMs) track.failures = 0;
      track.deadSince = now;
      track.delayMs = this.delayFor(track.failures);
      track.restartAt = now + track.delayMs;
    }
    const delayMs = track.delayMs ?? 0;
    if (now < track.restartAt) return { action: 'wait', restartAt: track.restartAt, delayMs };
    return { action: 'restart', delayMs };
  }

  /** The restart happened: the new pid starts its life now, one more failure in the row. */
  restarted(name: string, pid: number, now: number): void {
    const failures = (this.tracks.get(name)?.failures ?? 0) + 1;
    this.tracks.set(name, { pid, upSince: now, failures });
  }

  /** The restart could not be made (spawn failed): try again after a longer wait. */
  restartFailed(name: string, now: number): void {
    const track = this.tracks.get(name);
    if (!track) return;
    track.failures += 1;
    track.delayMs = this.delayFor(track.failures);
    track.restartAt = now + track.delayMs;
  }
}

/**
 * The compare-and-swap of a restart: `start(current)` runs, and its daemon replaces `name` in the
 * state, only if the record still holds the dead pid the supervisor saw and nobody stopped it on
 * purpose meanwhile (a `lab stop`, `lab start` or `lab up` in between wins). Returns the new state
 * and record, or undefined when there was nothing to do. Call it under the lab lock, with the
 * state read under that lock.
 */
export function restartInState(
  state: LabState,
  name: string,
  deadPid: number,
  isAlive: (pid: number) => boolean,
  start: (current: DaemonRecord) => Daemon,
  reason: string,
  at: Date,
): { state: LabState; next: DaemonRecord } | undefined {
  const current = state.daemons.find((d) => d.name === name);
  if (!current || current.pid !== deadPid || current.stoppedAt || isAlive(current.pid)) return undefined;
  const next: DaemonRecord = {
    ...start(current),
    restarts: (current.restarts ?? 0) + 1,
    lastRestart: { at: at.toISOString(), reason },
  };
  return { state: { ...state, daemons: state.daemons.map((d) => (d.name === name ? next : d)) }, next };
}

/** The last non-empty line of a daemon's log, shortened: what it said before it died. */
export function lastLogLine(log: string, max = 160): string | undefined {
  let text: string;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.trimEnd().split('\n').pop()?.trim();
  if (!line) return undefined;
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** "restarts 2, last 2024-…Z (killed by SIGKILL)" for `lab status`; "" for a daemon never restarted. */
export function restartSummary(d: Pick<DaemonRecord, 'restarts' | 'lastRestart'> | undefined): string {
  if (!d?.restarts) return '';
  return `restarts ${d.restarts}${d.lastRestart ? `, last ${d.lastRestart.at} (${d.lastRestart.reason})` : ''}`;
}
