// The host settings' save / raise / restore cycle, on files standing in for /proc/sys entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyHostSettings, restoreHostSettings } from './host-sysctl.js';

function fixture(value: string) {
  const dir = mkdtempSync(join(tmpdir(), 'wsl-host-sysctl-'));
  const path = join(dir, 'rmem_default');
  writeFileSync(path, `${value}\n`);
  return { dir, path, saved: join(dir, 'saved.json'), value: () => readFileSync(path, 'utf8').trim() };
}

test('raises a setting below its minimum and lab down puts the machine value back', (t) => {
  const f = fixture('212992');
  t.after(() => rmSync(f.dir, { recursive: true, force: true }));
  const settings = [{ path: f.path, minimum: 7 << 20 }];
  assert.deepEqual(applyHostSettings(settings, f.saved), [`${f.path}: 212992 -> 7340032`]);
  assert.equal(f.value(), '7340032');
  restoreHostSettings(f.saved);
  assert.equal(f.value(), '212992');
  assert.equal(existsSync(f.saved), false);
  restoreHostSettings(f.saved); // nothing saved: nothing to do
  assert.equal(f.value(), '212992');
});

test('never lowers a machine value that is already higher', (t) => {
  const f = fixture('16777216');
  t.after(() => rmSync(f.dir, { recursive: true, force: true }));
  assert.deepEqual(applyHostSettings([{ path: f.path, minimum: 7 << 20 }], f.saved), []);
  assert.equal(f.value(), '16777216');
  restoreHostSettings(f.saved);
  assert.equal(f.value(), '16777216');
});

test("a crashed lab's saved values win over the lab's own on the next lab up", (t) => {
  const f = fixture('212992');
  t.after(() => rmSync(f.dir, { recursive: true, force: true }));
  const settings = [{ path: f.path, minimum: 7 << 20 }];
  applyHostSettings(settings, f.saved);
  // the lab died without lab down; the next lab up finds the raised value and the saved file
  applyHostSettings(settings, f.saved);
  restoreHostSettings(f.saved);
  assert.equal(f.value(), '212992');
});
