import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { rulesDir, rulesFile } from './paths.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const groups = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups;
const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert);

function promtool(args: string[]) {
  const res = spawnSync('promtool', args, { cwd: rulesDir, encoding: 'utf8' });
  assert.equal(res.error, undefined, 'promtool (Debian package prometheus) must be installed');
  return res;
}

test('the rule file passes promtool check rules', () => {
  const res = promtool(['check', 'rules', rulesFile]);
  assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
});

test('every rule unit test passes (promtool test rules)', () => {
  const res = promtool(['test', 'rules', 'wirescope.rules.test.yml']);
  assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
  assert.match(res.stdout, /SUCCESS/);
});

test('every alert has a severity, runbook-style annotations and a unit test that fires it', () => {
  const tests = readFileSync(join(rulesDir, 'wirescope.rules.test.yml'), 'utf8');
  const names = alerts.map((a) => a.alert!);
  for (const required of [
    'WirescopePlaintextPodTraffic',
    'WirescopeEncryptionCoverageBelow100',
    'WirescopeStrictModeDrops',
    'WirescopeWireguardHandshakeStale',
    'WirescopeNodeMissingWireguardPeer',
    'WirescopeHandshakeFailures',
    'WirescopeAgentDown',
    'WirescopeRelayPeerUnavailable',
    'WirescopeLostEvents',
  ])
    assert.ok(names.includes(required), `missing alert ${required}`);
  for (const a of alerts) {
    assert.match(a.labels?.severity ?? '', /^(info|warning|critical)$/, `${a.alert}: severity`);
    for (const key of ['summary', 'description', 'runbook'])
      assert.ok(a.annotations?.[key], `${a.alert}: annotation ${key}`);
    // a test that expects it to fire (exp_alerts with labels), not only one that expects silence
    const fires = new RegExp(`alertname: ${a.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`);
    assert.match(tests, fires, `${a.alert}: no firing test`);
  }
});
