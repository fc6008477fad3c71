import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from './errors.js';
import { isAlive, procStat } from './process.js';

export const LOCK_FILE = '/run/wirescope-lab.lock';
const WAIT_MS = 120_000;
/** Signals that end a CLI by default; the lock goes first, then the signal does its usual work. */
const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** "pid starttime": the start time tells a live holder from a new process that got its pid. */
const holderLine = (pid: number): string => `${pid} ${procStat(pid)?.startTime ?? ''}`;

function holderIsAlive(line: string): { pid: number; alive: boolean } {
  const [pidText = '', startTime] = line.trim().split(' ');
  const pid = Number(pidText);
  if (!isAlive(pid)) return { pid, alive: false };
  return { pid, alive: !startTime || procStat(pid)?.startTime === startTime };
}

/**
 * Serializes lab operations across processes (two `lab up`s, or a `lab down` during a `lab up`):
 * an exclusively created lock file naming its holder. A holder that is gone (exited, a zombie, or
 * its pid now someone else's) is taken over. The lock is released however this process ends:
 * returning, throwing, an uncaught exception, or Ctrl-C.
 */
export async function withLabLock<T>(
  fn: () => Promise<T>,
  progress?: (message: string) => void,
  file = LOCK_FILE,
): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let announced = false;
  const mine = holderLine(process.pid);
  for (;;) {
    try {
      writeFileSync(file, `${mine}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let line: string;
    try {
      line = readFileSync(file, 'utf8');
    } catch {
      continue; // released meanwhile
    }
    const holder = holderIsAlive(line);
    if (!holder.alive) {
      rmSync(file, { force: true });
      continue;
    }
    if (!announced) progress?.(`waiting: another lab operation (pid ${holder.pid}) is in progress`);
    announced = true;
    if (Date.now() > deadline) throw new LabError(`another lab operation (pid ${holder.pid}) holds ${file}`);
    await sleep(200);
  }
  const release = () => {
    process.off('exit', release);
    for (const sig of FATAL_SIGNALS) process.off(sig, onSignal);
    try {
      if (readFileSync(file, 'utf8').trim() === mine) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    release();
    process.kill(process.pid, sig);
  };
  process.on('exit', release);
  for (const sig of FATAL_SIGNALS) process.on(sig, onSignal);
  try {
    return await fn();
  } finally {
    release();
  }
}
