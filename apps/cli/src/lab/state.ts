import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { STATE_FILE } from './names.js';
import type { Daemon } from './shell.js';
import type { LabSpec } from './spec.js';

/** What `lab up` left running; `lab status`, `lab down` and `encrypt status` read it. */
export interface LabState {
  startedAt: string;
  readyAfterMs: number;
  spec: LabSpec;
  daemons: Daemon[];
}

export function readState(): LabState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function writeState(state: LabState): void {
  writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}
