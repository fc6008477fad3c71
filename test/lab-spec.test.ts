// Bad input is rejected before anything is created: an invalid lab spec, bad agent flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { cli } from './lab-helpers.js';

test('lab up with an invalid spec names file, line and field, and creates nothing', () => {
  assert.ok(!existsSync('/run/wirescope-lab'), 'precondition: no lab running');
  const dir = mkdtempSync('/tmp/wsl-spec-');
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    [
      'nodes:',
      '  - name: n1',
      '    podCIDR: 10.244.1.0/24',
      '  - name: n2',
      '    podCIDR: 10.244.1.128/25',
      'pods:',
      '  - name: a',
      '    node: n1',
      '    color: blue',
      '  - name: a',
      '    node: n7',
      '',
    ].join('\n'),
  );
  const result = cli('lab', 'up', '--spec', file);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /invalid lab spec, nothing was created/);
  assert.match(
    result.stderr,
    new RegExp(`${file}:5: nodes\\[1\\]\\.podCIDR: 10\\.244\\.1\\.128/25 overlaps nodes\\[0\\]\\.podCIDR`),
  );
  assert.match(result.stderr, new RegExp(`${file}:9: pods\\[0\\]\\.color: unknown field`));
  assert.match(result.stderr, new RegExp(`${file}:10: pods\\[1\\]\\.name: duplicate pod "default/a"`));
  assert.match(
    result.stderr,
    new RegExp(`${file}:11: pods\\[1\\]\\.node: unknown node "n7"; accepted: n1, n2`),
  );
  assert.ok(!existsSync('/run/wirescope-lab'), 'no lab files created');
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(ns, /^wsl-/m, 'no lab namespace created');
});

test('lab up with a YAML alias bomb is an invalid spec (rc 2, no stack trace), and creates nothing', () => {
  const dir = mkdtempSync('/tmp/wsl-spec-');
  const file = join(dir, 'bomb.yaml');
  const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) {
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  writeFileSync(file, `${levels.join('\n')}\nnodes: *i\n`);
  const result = cli('lab', 'up', '--spec', file);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /^wirescope: invalid lab spec, nothing was created:\n {2}\S+bomb\.yaml:1: \(document\): not usable: Excessive alias count/,
  );
  assert.doesNotMatch(result.stderr, /ReferenceError|\n\s+at /);
  assert.ok(!existsSync('/run/wirescope-lab'), 'no lab files created');
});

test('lab and encrypt reject bad arguments with one line naming what is accepted', () => {
  const action = cli('lab', 'sideways');
  assert.equal(action.code, 2);
  assert.equal(
    action.stderr.trim(),
    'wirescope: unknown action "sideways"; accepted: up, down, status, stop, start, forward',
  );
  const output = cli('encrypt', 'status', '-o', 'yaml');
  assert.equal(output.code, 2);
  assert.equal(output.stderr.trim(), 'wirescope: -o "yaml" is not valid; accepted: text, json');
});

test('the agent rejects bad flags with a clear message and exit code 2', () => {
  const agent = spawnSync(
    process.execPath,
    [
      createRequire(import.meta.url).resolve('@wirescope/agent/bin'),
      '--node-name',
      'n1',
      '--underlay-ip',
      '10.77.0.11',
      '--pod-cidr',
      '10.244.1.0/33',
      '--etcd-endpoints',
      'http://127.0.0.1:1',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(agent.status, 2);
  assert.match(agent.stderr, /^wirescope-agent: --pod-cidr "10\.244\.1\.0\/33" is not valid; accepted:/);
});
