import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { rulesFile } from '@wirescope/dashboards';
import { LAB_ALERT_FOR, alertmanagerConfig, labRules, prometheusConfig } from './monitoring.js';

function check(tool: string, args: string[]) {
  const res = spawnSync(tool, args, { encoding: 'utf8' });
  assert.equal(
    res.error,
    undefined,
    `${tool} must be installed (Debian packages prometheus, prometheus-alertmanager)`,
  );
  assert.equal(res.status, 0, `${tool} ${args.join(' ')}: ${res.stdout}${res.stderr}`);
}

test("the lab's rules are the shipped ones with a short for:, and Prometheus and amtool accept the configs", () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsl-monitoring-'));
  try {
    const shipped = parse(readFileSync(rulesFile, 'utf8')) as {
      groups: { rules: Record<string, unknown>[] }[];
    };
    const lab = parse(labRules(readFileSync(rulesFile, 'utf8'))) as typeof shipped;
    const alerts = (doc: typeof shipped) => doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    assert.equal(alerts(lab).length, alerts(shipped).length);
    for (const [i, rule] of alerts(lab).entries()) {
      assert.equal(rule.for, LAB_ALERT_FOR);
      assert.deepEqual({ ...rule, for: undefined }, { ...alerts(shipped)[i], for: undefined });
    }
    writeFileSync(join(dir, 'rules.yml'), labRules(readFileSync(rulesFile, 'utf8')));
    check('promtool', ['check', 'rules', join(dir, 'rules.yml')]);
    const prometheus = prometheusConfig().replace(
      /rule_files:\n\s+- .*\n/,
      `rule_files:\n  - ${join(dir, 'rules.yml')}\n`,
    );
    writeFileSync(join(dir, 'prometheus.yml'), prometheus);
    check('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfig());
    check('amtool', ['check-config', join(dir, 'alertmanager.yml')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
