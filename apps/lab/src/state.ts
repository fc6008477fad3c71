import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { STATE_FILE } from './names.js';
import type { Daemon } from './shell.js';
import type { LabSpec } from './spec.js';
import { isAlive } from './process.js';

/** A recorded lab process, with what `lab stop` and the supervisor add to it. */
export interface DaemonRecord extends Daemon {
  /** Set by `lab stop NAME`, cleared by `lab start NAME`: the supervisor leaves such a daemon down. */
  stoppedAt?: string;
  /** How often the supervisor restarted it after it died unexpectedly. */
  restarts?: number;
  lastRestart?: { at: string; reason: string };
}

/** What `lab up` left running; `lab status`, `lab down` and the supervisor read it (others: labAgents). */
export interface LabState {
  startedAt: string;
  readyAfterMs: number;
  spec: LabSpec;
  daemons: DaemonRecord[];
}

export function readState(): LabState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/**
 * Replaces the state file atomically (a temporary file renamed over it): a reader never sees half
 * a file. Writers serialize through the lab lock (withLabLock) and re-read the state inside it.
 */
export function writeState(state: LabState, file = STATE_FILE): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** The recorded daemons that still run, and those that do not. */
export function runningDaemons(state: LabState): { alive: DaemonRecord[]; dead: DaemonRecord[] } {
  const alive = state.daemons.filter((d) => isAlive(d.pid));
  return { alive, dead: state.daemons.filter((d) => !alive.includes(d)) };
}
