import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { withLabLock } from './lock.js';
import { procStat } from './process.js';

const LOCK = fileURLToPath(new URL('./lock.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wsl-lock-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const lockFile = () => join(dir, `lab-${n++}.lock`);

test('the lock names its holder while held and is gone after, also when fn throws', async () => {
  const file = lockFile();
  await withLabLock(
    async () => {
      assert.equal(readFileSync(file, 'utf8').trim(), `${process.pid} ${procStat(process.pid)?.startTime}`);
    },
    undefined,
    file,
  );
  assert.ok(!existsSync(file));
  await assert.rejects(
    withLabLock(() => Promise.reject(new Error('boom')), undefined, file),
    /boom/,
  );
  assert.ok(!existsSync(file));
});

test('a lock left by a process that is gone, a zombie, or whose pid was reused is taken over', async () => {
  const exited = spawnSync('true').pid as number;
  // sh execs into sleep, which never reaps: its killed child is a zombie holding the lock.
  const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [line] = (await once(parent.stdout, 'data')) as [Buffer];
  const zombie = Number(line.toString().trim());
  process.kill(zombie, 'SIGKILL');
  // the signal is delivered asynchronously: on a busy machine the child can still be running
  for (let i = 0; i < 200 && procStat(zombie)?.state !== 'Z'; i++) await sleep(10);
  assert.equal(procStat(zombie)?.state, 'Z', 'the killed child is a zombie');
  try {
    for (const holder of [`${exited} 1`, `${zombie}`, `${process.pid} 1`, 'garbage']) {
      const file = lockFile();
      writeFileSync(file, `${holder}\n`);
      const messages: string[] = [];
      let ran = false;
      await withLabLock(
        async () => void (ran = true),
        (m) => messages.push(m),
        file,
      );
      assert.ok(ran, holder);
      assert.deepEqual(messages, [], `no waiting for holder "${holder}"`);
    }
  } finally {
    parent.kill('SIGKILL');
  }
});

test('a live holder is waited for', async () => {
  const file = lockFile();
  const order: string[] = [];
  const first = withLabLock(
    async () => {
      order.push('first');
      await new Promise((r) => setTimeout(r, 300));
    },
    undefined,
    file,
  );
  const messages: string[] = [];
  await withLabLock(
    async () => void order.push('second'),
    (m) => messages.push(m),
    file,
  );
  await first;
  assert.deepEqual(order, ['first', 'second']);
  assert.match(messages[0] ?? '', new RegExp(`^waiting: another lab operation \\(pid ${process.pid}\\)`));
});

for (const [how, body] of [
  [
    'an uncaught exception',
    "setTimeout(() => { throw new Error('crash'); }, 10); return new Promise(() => {});",
  ],
  // the interval stands for the lab's pending work: signal handles alone do not keep Node running
  [
    'Ctrl-C (SIGINT)',
    "setInterval(() => {}, 1000); setTimeout(() => process.kill(process.pid, 'SIGINT'), 10); return new Promise(() => {});",
  ],
] as const) {
  test(`a process that dies of ${how} while holding the lock leaves none behind`, async () => {
    const file = lockFile();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { withLabLock } = await import(${JSON.stringify(LOCK)});
         await withLabLock(() => { console.log('locked'); ${body} }, undefined, ${JSON.stringify(file)});`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.match(out, /locked/);
    assert.ok(
      how.includes('SIGINT') ? signal === 'SIGINT' : code === 1,
      `ended by ${how}: ${code} ${signal}`,
    );
    assert.ok(!existsSync(file), 'no stale lock');
  });
}
