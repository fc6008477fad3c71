import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const OUTPUT = fileURLToPath(new URL('./output.ts', import.meta.url));

/** A child that prints a line every few ms, like `lab up`'s progress, and says when it got to the end. */
function printer(guarded: boolean) {
  const script = `
    ${guarded ? `const { keepGoingWhenOutputCloses } = await import(${JSON.stringify(OUTPUT)}); keepGoingWhenOutputCloses();` : ''}
    for (let i = 0; i < 40; i++) {
      console.log('step ' + i);
      console.error('note ' + i);
      await new Promise((r) => setTimeout(r, 5));
    }
    (await import('node:fs')).writeSync(3, 'finished');`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
}

async function runWithClosedOutput(guarded: boolean): Promise<{ code: number | null; finished: boolean }> {
  const child = printer(guarded);
  let finished = '';
  child.stdio[3]?.on('data', (d: Buffer) => (finished += d.toString()));
  // like `| head -1 2>&1`: read one line, then close both pipes
  await once(child.stdout, 'data');
  child.stdout.destroy();
  child.stderr.destroy();
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, finished: finished === 'finished' };
}

test('with stdout and stderr closed half-way (`lab up | head -3`), the command runs to its end', async () => {
  assert.deepEqual(await runWithClosedOutput(true), { code: 0, finished: true });
});

test('without it, the first write to the closed pipe kills the process (what lab up did)', async () => {
  const { code, finished } = await runWithClosedOutput(false);
  assert.notEqual(code, 0);
  assert.equal(finished, false);
});
