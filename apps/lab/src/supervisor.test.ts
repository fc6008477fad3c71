import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_BACKOFF, RestartPolicy, lastLogLine, restartInState, restartSummary } from './supervisor.js';
import { exitOf, formatWaitStatus, isAlive, procStat } from './process.js';
import { writeState, type DaemonRecord, type LabState } from './state.js';

const dead = (pid: number) => ({ name: 'relay', pid, alive: false, stopped: false });
const alive = (pid: number) => ({ name: 'relay', pid, alive: true, stopped: false });

/** Lets `pid` die at `at` and returns when the policy restarts it (new pid = pid + 1). */
function dieAndRestart(
  policy: RestartPolicy,
  pid: number,
  at: number,
): { delayMs: number; restartedAt: number } {
  const first = policy.decide(dead(pid), at);
  assert.equal(first.action, 'wait', 'never restarted at the instant it is seen dead');
  assert.ok(first.action === 'wait');
  assert.equal(policy.decide(dead(pid), first.restartAt - 1).action, 'wait');
  const due = policy.decide(dead(pid), first.restartAt);
  assert.deepEqual(due, { action: 'restart', delayMs: first.delayMs });
  policy.restarted('relay', pid + 1, first.restartAt);
  return { delayMs: first.delayMs, restartedAt: first.restartAt };
}

test('a live daemon is left alone; a dead one is restarted after 0.5 s', () => {
  const policy = new RestartPolicy();
  assert.deepEqual(policy.decide(alive(100), 0), { action: 'none' });
  assert.deepEqual(policy.decide(alive(100), 60_000), { action: 'none' });
  assert.deepEqual(policy.decide(dead(100), 61_000), { action: 'wait', restartAt: 61_500, delayMs: 500 });
  assert.deepEqual(policy.decide(dead(100), 61_500), { action: 'restart', delayMs: 500 });
});

test('a daemon that keeps dying waits 0.5 s doubling up to 10 s', () => {
  const policy = new RestartPolicy();
  policy.decide(alive(1), 0);
  let now = 40_000;
  const delays: number[] = [];
  for (let pid = 1; pid <= 8; pid++) {
    const { delayMs, restartedAt } = dieAndRestart(policy, pid, now);
    delays.push(delayMs);
    now = restartedAt + 1000; // each new process dies a second after its start
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
});

test('the backoff resets once the daemon stayed up 30 s', () => {
  const policy = new RestartPolicy();
  let startedAt = 0;
  for (let pid = 1; pid <= 4; pid++) startedAt = dieAndRestart(policy, pid, startedAt + 100).restartedAt;
  // pid 5, started at startedAt, dies 29.9 s later: still a crash loop
  const fifth = dieAndRestart(policy, 5, startedAt + 29_900);
  assert.equal(fifth.delayMs, 8000);
  // pid 6 stays up 30 s: healthy again, its death waits 0.5 s
  assert.equal(policy.decide(alive(6), fifth.restartedAt + 10_000).action, 'none');
  assert.equal(dieAndRestart(policy, 6, fifth.restartedAt + DEFAULT_BACKOFF.resetAfterMs).delayMs, 500);
});

test('a daemon stopped on purpose is never restarted; after lab start it is watched afresh', () => {
  const policy = new RestartPolicy();
  policy.decide(alive(10), 0);
  for (const now of [1000, 5000, 60_000, 600_000]) {
    assert.deepEqual(policy.decide({ name: 'relay', pid: 10, alive: false, stopped: true }, now), {
      action: 'leave',
      why: 'stopped on purpose',
    });
  }
  // `lab start relay`: a new pid the supervisor did not start; dying soon waits only 0.5 s
  assert.deepEqual(policy.decide(alive(11), 600_100), { action: 'none' });
  assert.equal(dieAndRestart(policy, 11, 600_200).delayMs, 500);
});

test('stopped while waiting for its restart: the pending restart is dropped', () => {
  const policy = new RestartPolicy();
  assert.equal(policy.decide(dead(20), 0).action, 'wait');
  assert.equal(policy.decide({ ...dead(20), stopped: true }, 400).action, 'leave');
  assert.equal(policy.decide({ ...dead(20), stopped: true }, 10_000).action, 'leave');
});

test('a failed restart waits longer before the next attempt', () => {
  const policy = new RestartPolicy();
  policy.decide(dead(30), 0);
  assert.equal(policy.decide(dead(30), 500).action, 'restart');
  policy.restartFailed('relay', 500);
  assert.deepEqual(policy.decide(dead(30), 600), { action: 'wait', restartAt: 1500, delayMs: 1000 });
  assert.equal(policy.decide(dead(30), 1500).action, 'restart');
});

test('daemons are tracked separately (relay and relay-forward)', () => {
  const policy = new RestartPolicy();
  for (let pid = 1; pid <= 3; pid++) dieAndRestart(policy, pid, pid * 100_000 + 1000 * pid);
  const forward = policy.decide({ name: 'relay-forward', pid: 99, alive: false, stopped: false }, 400_000);
  assert.equal(forward.action === 'wait' && forward.delayMs, 500);
});

test('a SIGKILLed daemon nobody reaps (a zombie) is seen dead, restarted, and its end is known', async () => {
  // sh execs into sleep, which never waits: like a lab daemon whose parent is PID 1.
  const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const pid = Number(line.toString().trim());
    const policy = new RestartPolicy();
    assert.equal(
      policy.decide({ name: 'relay', pid, alive: isAlive(pid), stopped: false }, 0).action,
      'none',
    );
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && procStat(pid)?.state !== 'Z'; i++) await sleep(10);
    assert.equal(procStat(pid)?.state, 'Z', 'precondition: a zombie');
    assert.equal(
      policy.decide({ name: 'relay', pid, alive: isAlive(pid), stopped: false }, 100).action,
      'wait',
    );
    assert.equal(
      policy.decide({ name: 'relay', pid, alive: isAlive(pid), stopped: false }, 600).action,
      'restart',
    );
    assert.equal(exitOf(pid), 'killed by SIGKILL');
  } finally {
    parent.kill('SIGKILL');
  }
});

test('wait statuses read as signals or exit codes', () => {
  assert.equal(formatWaitStatus(9), 'killed by SIGKILL');
  assert.equal(formatWaitStatus(15), 'killed by SIGTERM');
  assert.equal(formatWaitStatus(2 << 8), 'exited with code 2');
  assert.equal(formatWaitStatus(0), 'exited with code 0');
  assert.equal(exitOf(process.pid), undefined, 'a live process has no end yet');
});

const record = (name: string, pid: number, extra: Partial<DaemonRecord> = {}): DaemonRecord => ({
  name,
  namespace: 'wsl-cp',
  pid,
  log: `/tmp/${name}.log`,
  argv: ['node', `${name}.js`],
  env: { A: '1' },
  ...extra,
});
const labState = (...daemons: DaemonRecord[]): LabState => ({
  startedAt: '2024-01-01T00:00:00.000Z',
  readyAfterMs: 1000,
  spec: { file: 'x.yaml', nodes: [], pods: [] } as unknown as LabState['spec'],
  daemons,
});

test('a restart swaps in the new pid with the original command line and counts it', () => {
  const state = labState(record('etcd', 5), record('relay', 7, { restarts: 2 }), record('agent-node1', 9));
  const at = new Date('2024-01-01T00:01:00.000Z');
  const started: DaemonRecord[] = [];
  const done = restartInState(
    state,
    'relay',
    7,
    () => false,
    (current) => {
      started.push(current);
      return { ...current, pid: 70 };
    },
    'killed by SIGKILL',
    at,
  );
  assert.ok(done);
  assert.deepEqual(
    started.map((d) => [d.argv, d.env, d.namespace]),
    [[['node', 'relay.js'], { A: '1' }, 'wsl-cp']],
  );
  assert.deepEqual(done.next, {
    ...record('relay', 70),
    restarts: 3,
    lastRestart: { at: '2024-01-01T00:01:00.000Z', reason: 'killed by SIGKILL' },
  });
  assert.deepEqual(
    done.state.daemons.map((d) => [d.name, d.pid]),
    [
      ['etcd', 5],
      ['relay', 70],
      ['agent-node1', 9],
    ],
  );
  assert.equal(restartSummary(done.next), 'restarts 3, last 2024-01-01T00:01:00.000Z (killed by SIGKILL)');
  assert.equal(restartSummary(record('relay', 1)), '');
});

test('no restart when the record changed under the supervisor (compare-and-swap)', () => {
  const never = (): DaemonRecord => assert.fail('must not start anything');
  const at = new Date();
  // `lab start relay` (or another supervisor) already replaced the dead pid
  assert.equal(
    restartInState(labState(record('relay', 8)), 'relay', 7, () => false, never, 'x', at),
    undefined,
  );
  // `lab stop relay` came first
  const stopped = labState(record('relay', 7, { stoppedAt: at.toISOString() }));
  assert.equal(
    restartInState(stopped, 'relay', 7, () => false, never, 'x', at),
    undefined,
  );
  // it is alive after all
  assert.equal(
    restartInState(labState(record('relay', 7)), 'relay', 7, () => true, never, 'x', at),
    undefined,
  );
  // the lab no longer has it (lab up with another spec)
  assert.equal(
    restartInState(labState(record('etcd', 7)), 'relay', 7, () => false, never, 'x', at),
    undefined,
  );
});

test('the state file is replaced whole (written beside it, renamed over it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsl-state-'));
  try {
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"old": true}\n');
    writeState(labState(record('relay', 7)), file);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as LabState).daemons[0]?.pid, 7);
    assert.deepEqual(readdirSync(dir), ['state.json'], 'no temporary file left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the last log line names why a daemon exited', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsl-log-'));
  try {
    const log = join(dir, 'relay.log');
    writeFileSync(log, 'relay: serving\nwirescope-relay: cannot listen on 10.77.0.254:4245\n\n');
    assert.equal(lastLogLine(log), 'wirescope-relay: cannot listen on 10.77.0.254:4245');
    writeFileSync(log, `${'x'.repeat(300)}\n`);
    assert.equal(lastLogLine(log, 10), `${'x'.repeat(10)}…`);
    assert.equal(lastLogLine(join(dir, 'missing.log')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
