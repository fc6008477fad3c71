import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, procStat } from './process.js';

test('a running process is alive; no process, pid 0 and non-integers are not', () => {
  assert.ok(isAlive(process.pid));
  assert.equal(procStat(process.pid)?.ppid, process.ppid);
  assert.ok(isAlive(1), 'EPERM or not, pid 1 exists');
  assert.equal(isAlive(0), false);
  assert.equal(isAlive(Number.NaN), false);
  assert.equal(isAlive(2 ** 22 + 1), false);
});

test('a SIGKILLed process nobody reaps (a zombie) is dead, like a lab daemon whose parent is PID 1', async () => {
  // sh execs into sleep, which never waits: its killed child stays a zombie, as under a PID 1
  // that does not reap.
  const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const child = Number(line.toString().trim());
    assert.ok(isAlive(child));
    process.kill(child, 'SIGKILL');
    for (let i = 0; i < 100 && procStat(child)?.state !== 'Z'; i++) await sleep(10);
    assert.equal(procStat(child)?.state, 'Z', 'precondition: a zombie');
    assert.equal(isAlive(child), false);
  } finally {
    parent.kill('SIGKILL');
  }
});

test('a zombie that is our own child is dead at once, and Node reaps it', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const pid = child.pid as number;
  const exited = once(child, 'exit');
  process.kill(pid, 'SIGKILL');
  while (procStat(pid)?.state !== 'Z') {
    // a busy wait: the event loop must not turn, or libuv would reap it before we look
  }
  assert.equal(isAlive(pid), false);
  await exited;
  assert.equal(procStat(pid), undefined, 'reaped');
});
