// The lab supervisor daemon: node supervisor-main.js, started by `lab up` in the root namespace,
// recorded in the state as "supervisor", removed by `lab down`. Polls the supervised daemons' pids
// and restarts one that died unexpectedly (see supervisor.ts for the policy).
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { STATE_FILE } from './names.js';
import { readState, writeState, type DaemonRecord } from './state.js';
import { exitOf, formatWaitStatus, isAlive } from './process.js';
import { withLabLock } from './lock.js';
import { startDaemon, type Daemon } from './shell.js';
import { RestartPolicy, SUPERVISED, SUPERVISOR_DAEMON, lastLogLine, restartInState } from './supervisor.js';

const POLL_MS = 200;

const log = (message: string) => console.log(`${new Date().toISOString()} supervisor: ${message}`);
const policy = new RestartPolicy();
/** How our own children ended (Node reaps them, so /proc no longer knows). */
const exits = new Map<number, string>();
/** Deaths already logged, by pid. */
const announced = new Set<number>();

// Nothing between reading and writing the state awaits (restart() below is synchronous under the
// lock), so exiting on a signal can never leave a started daemon unrecorded.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(sig, () => {
    log(`${sig}: exiting`);
    process.exit(0);
  });
}

function reasonFor(d: DaemonRecord): string {
  const how = exits.get(d.pid) ?? exitOf(d.pid) ?? 'exited';
  // What it said last explains an exit; after a signal it is just its last ordinary line.
  const said = how.startsWith('exited') ? lastLogLine(d.log) : undefined;
  return said ? `${how}: ${said}` : how;
}

async function restart(dead: DaemonRecord, reason: string): Promise<void> {
  let next: DaemonRecord | undefined;
  try {
    next = await withLabLock(async () => {
      const state = readState();
      if (!state) return undefined;
      const done = restartInState(
        state,
        dead.name,
        dead.pid,
        isAlive,
        (current) => {
          const started: Daemon = startDaemon(
            current.name,
            current.namespace,
            current.argv,
            current.env,
            (code, signal) => {
              exits.set(started.pid, signal ? `killed by ${signal}` : formatWaitStatus((code ?? 0) << 8));
            },
          );
          return started;
        },
        reason,
        new Date(),
      );
      if (done) writeState(done.state);
      return done?.next;
    }, log);
  } catch (err) {
    policy.restartFailed(dead.name, Date.now());
    log(`could not restart ${dead.name}: ${(err as Error).message}`);
    return;
  }
  if (!next) {
    log(`${dead.name} (pid ${dead.pid}) was stopped, started or replaced meanwhile: left as it is`);
    return;
  }
  policy.restarted(next.name, next.pid, Date.now());
  log(`${next.name} restarted: pid ${next.pid} (restart ${next.restarts})`);
}

log(`watching ${SUPERVISED.join(', ')} (pid ${process.pid})`);
for (;;) {
  if (!existsSync(STATE_FILE)) {
    log('the lab is gone (no state file): exiting');
    process.exit(0);
  }
  const state = readState();
  const me = state?.daemons.find((d) => d.name === SUPERVISOR_DAEMON);
  if (me && me.pid !== process.pid) {
    log(`another supervisor (pid ${me.pid}) is recorded: exiting`);
    process.exit(0);
  }
  for (const name of SUPERVISED) {
    const d = state?.daemons.find((x) => x.name === name);
    if (!d) continue;
    const alive = isAlive(d.pid);
    const decision = policy.decide({ name, pid: d.pid, alive, stopped: Boolean(d.stoppedAt) }, Date.now());
    if (decision.action === 'none' || decision.action === 'leave') continue;
    const reason = reasonFor(d);
    if (!announced.has(d.pid)) {
      announced.add(d.pid);
      log(`${name} (pid ${d.pid}) ${reason}; restarting in ${(decision.delayMs / 1000).toFixed(1)}s`);
    }
    if (decision.action === 'restart') await restart(d, reason);
  }
  await sleep(POLL_MS);
}
