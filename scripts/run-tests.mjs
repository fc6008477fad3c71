#!/usr/bin/env node
// Runs node's test runner (TypeScript through tsx) on every *.test.ts under the given
// directories. Node 20's --test takes no globs, hence this finder.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const dirs = process.argv.slice(2);
if (dirs.length === 0) dirs.push('src');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts') || name.endsWith('.test.mts')) files.push(path);
  }
};
for (const d of dirs) {
  try {
    walk(resolve(d));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
}
if (files.length === 0) {
  console.log(`run-tests: no test files under ${dirs.join(', ')}`);
  process.exit(0);
}
files.sort();
const args = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files];
const res = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(res.status ?? 1);
