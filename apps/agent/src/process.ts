import { readFileSync } from 'node:fs';

/**
 * Whether `pid` still runs. A zombie does not: an adopted wireguard-go (the agent that started
 * it restarted) that is killed stays a zombie for as long as PID 1 does not reap it.
 */
export function processRuns(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
