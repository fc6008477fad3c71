// `npm run demo` (wirescope demo): brings the lab up, says how to look at it, runs until Ctrl-C,
// then removes everything it made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ROOT, cli, eventually } from './lab-helpers.js';

test('demo: lab up, how to look at it, Ctrl-C removes the lab', async () => {
  cli('lab', 'down');
  const demo = spawn(process.execPath, [`${ROOT}apps/cli/dist/bin.js`, 'demo', '--etcd-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout.on('data', (d: Buffer) => (output += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));
  try {
    await eventually('the demo to be up and waiting', 60_000, () =>
      output.includes('Press Ctrl-C') ? true : undefined,
    );
  } catch (err) {
    demo.kill('SIGINT');
    await exited;
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  assert.match(output, /lab ready in/);
  assert.match(output, /wirescope encrypt status/);
  assert.match(output, /lab running since/);
  // issue 13: working Prometheus and Alertmanager URLs, every target up
  assert.match(output, /prometheus: http:\/\/127\.0\.0\.1:9090 running; targets up 4\/4/);
  assert.match(output, /alertmanager: http:\/\/127\.0\.0\.1:9093 running/);
  assert.equal((await fetch('http://127.0.0.1:9093/-/ready')).status, 200);
  assert.equal((await fetch('http://127.0.0.1:9090/-/ready')).status, 200);
  const encrypt = cli('encrypt', 'status', '-o', 'json');
  assert.equal(encrypt.code, 0, encrypt.stderr);
  assert.equal((JSON.parse(encrypt.stdout) as unknown[]).length, 3);
  demo.kill('SIGINT');
  assert.equal(await exited, 0, output);
  assert.match(output, /lab removed: 15 namespaces/);
  assert.ok(!existsSync('/run/wirescope-lab'));
  assert.doesNotMatch(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout, /^wsl-/m);
});
