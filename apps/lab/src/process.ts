import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

interface ProcStat {
  /** R, S, D, T, Z (zombie), X (dead), … */
  state: string;
  ppid: number;
  /** Clock ticks after boot: with the pid, names one process even after the pid is reused. */
  startTime: string;
  /** A zombie's wait status (waitpid(2) form, field 52); 0 while the process runs. */
  exitCode: number;
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
  return { state, ppid: Number(ppid), startTime: fields[19] ?? '', exitCode: Number(fields[49] ?? 0) };
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

/** "killed by SIGKILL" / "exited with code 1" from a wait status (waitpid(2) form). */
export function formatWaitStatus(status: number): string {
  const signal = status & 0x7f;
  if (signal === 0) return `exited with code ${(status >> 8) & 0xff}`;
  const name = Object.entries(osConstants.signals).find(([, n]) => n === signal)?.[0];
  return `killed by ${name ?? `signal ${signal}`}`;
}

/**
 * How a process that is no longer alive ended, when the machine still knows: a zombie keeps its
 * wait status in /proc (a lab daemon whose parent is PID 1 stays one). A process already reaped
 * (our own child) is gone without a trace: undefined.
 */
export function exitOf(pid: number): string | undefined {
  const stat = procStat(pid);
  if (!stat || stat.state !== 'Z') return undefined;
  return formatWaitStatus(stat.exitCode);
}

/** Sends `sig` to `pid`; a process that is already gone is no error. */
export function sendSignal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** /proc/<pid>/cmdline: the arguments joined by NUL; '' when no such process exists. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
