import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { stringify } from 'yaml';
import { buildAll, dashboardJson } from './build.js';
import { dashboardsDir } from './paths.js';
import { panelQueries } from './queries.js';

test('the committed dashboard JSON is what the table builds (npm run generate -w @wirescope/dashboards)', () => {
  const built = buildAll();
  assert.deepEqual(readdirSync(dashboardsDir).sort(), [...built.keys()].sort());
  for (const [file, dashboard] of built) {
    assert.equal(
      readFileSync(join(dashboardsDir, file), 'utf8'),
      dashboardJson(dashboard),
      `${file} is stale`,
    );
  }
});

test('dashboards target Grafana 11.6, with unique panel ids and at least one query per panel', () => {
  for (const [file, d] of buildAll()) {
    assert.equal(d.schemaVersion, 41, file);
    const panels = d.panels ?? [];
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${file}: duplicate panel ids`);
    for (const p of panels) {
      if (p.type === 'row') continue;
      assert.ok((p as { targets?: unknown[] }).targets?.length, `${file}: ${String(p.title)} has no query`);
    }
  }
});

test('every panel query, variables resolved, is PromQL that Prometheus accepts (promtool check rules)', () => {
  const queries = [...buildAll().values()].flatMap((d) => panelQueries(d));
  assert.ok(queries.length >= 30, `only ${queries.length} queries`);
  const dir = mkdtempSync(join(tmpdir(), 'ws-dash-'));
  try {
    const file = join(dir, 'panels.yml');
    const rules = queries.map((q, i) => ({ record: `panel:query_${i}`, expr: q.expr }));
    writeFileSync(file, stringify({ groups: [{ name: 'panels', rules }] }));
    const res = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(res.error, undefined, 'promtool (Debian package prometheus) must be installed');
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
