import { readFileSync } from 'node:fs';

interface ProcStat {
  /** R, S, D, T, Z (zombie), X (dead), … */
  state: string;
  ppid: number;
  /** Clock ticks after boot: with the pid, names one process even after the pid is reused. */
  startTime: string;
}

/** /proc/<pid>/stat's state, parent and start time; undefined when no such process exists. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state = '', ppid = '0'] = fields;
  return { state, ppid: Number(ppid), startTime: fields[19] ?? '' };
}

/**
 * Whether `pid` still runs. A zombie does not: a daemon killed with SIGKILL stays one for as long
 * as its parent does not wait for it, and here that parent is PID 1 (lab daemons outlive the
 * `lab up` that started them), which on this kind of machine never reaps. A zombie that is our own
 * child is reaped by Node itself (libuv waits for every child it spawned on SIGCHLD) as soon as
 * the event loop turns, which every caller polling in a loop lets it do.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}
