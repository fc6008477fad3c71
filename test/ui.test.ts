// Issue 15 on the real lab: the UI server reads the real relay (127.0.0.1:4245, the lab's loopback
// forward) and Debian's Chromium, driven by Playwright, shows real eBPF flows. Each test saves a
// screenshot under test-results/ui/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { EncryptionResponse, StatusResponse } from '@wirescope/ui';
import { ROOT, cli, deleteNodeRecord, eventually, inNs, labUp } from './lab-helpers.js';

const SHOTS = `${ROOT}test-results/ui`;
const PORT = 12100 + randomInt(800);
const BASE = `http://127.0.0.1:${PORT}`;

let ui: ChildProcess | undefined;
let uiOutput = '';
let browser: Browser | undefined;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const up = labUp();
  assert.equal(up.code, 0, `lab up failed: ${up.stderr}${up.stdout}`);
  ui = spawn(
    process.execPath,
    [
      `${ROOT}apps/ui/dist/server/bin.js`,
      '--listen',
      `127.0.0.1:${PORT}`,
      '--relay',
      '127.0.0.1:4245',
      '--prometheus',
      'http://127.0.0.1:9090',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  ui.stdout!.on('data', (d: Buffer) => (uiOutput += d.toString()));
  ui.stderr!.on('data', (d: Buffer) => (uiOutput += d.toString()));
  await eventually('the UI server to listen', 15_000, async () =>
    (await fetch(`${BASE}/healthz`)
      .then((r) => r.ok)
      .catch(() => false))
      ? true
      : undefined,
  );
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
});

after(async () => {
  await browser?.close();
  if (ui && ui.exitCode === null) {
    const exited = new Promise((resolve) => ui!.once('exit', resolve));
    ui.kill('SIGTERM');
    await exited;
  }
  const down = cli('lab', 'down');
  assert.equal(down.code, 0, down.stderr);
});

test('lab up serves the web UI at http://127.0.0.1:12000; lab status shows it', async () => {
  const res = await fetch('http://127.0.0.1:12000/healthz');
  assert.equal(res.status, 200);
  const page = await fetch('http://127.0.0.1:12000/');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<div id="root">|<script/);
  const status = cli('lab', 'status', '-o', 'json');
  const report = JSON.parse(status.stdout) as { monitoring: { ui: { url: string; running: boolean } } };
  assert.deepEqual(report.monitoring.ui, { url: 'http://127.0.0.1:12000', running: true });
  assert.match(cli('lab', 'status').stdout, /^ui: http:\/\/127\.0\.0\.1:12000 running/m);
});

interface EdgeInfo {
  from: string;
  to: string;
  encryption: string;
  tunnels: string;
  verdicts: string;
}

async function edges(): Promise<EdgeInfo[]> {
  return page.$$eval('[data-testid=map-edge]', (els) =>
    els.map((e) => ({
      from: e.getAttribute('data-from') ?? '',
      to: e.getAttribute('data-to') ?? '',
      encryption: e.getAttribute('data-encryption') ?? '',
      tunnels: e.getAttribute('data-tunnels') ?? '',
      verdicts: e.getAttribute('data-verdicts') ?? '',
    })),
  );
}

test('the map shows the lab workloads: shop -> db encrypted (WireGuard, with the peer), same-node edges marked same-node', async () => {
  await page.goto(`${BASE}/map`);
  const wanted = ['shop/loadgen', 'shop/frontend', 'shop/api', 'data/db', 'kube-system/kube-dns'];
  const found = await eventually('the workloads, api -> db and loadgen -> frontend', 20_000, async () => {
    const list = await edges();
    const toDb = list.find((e) => e.from === 'shop/api' && e.to === 'data/db');
    const sameNode = list.find((e) => e.from === 'shop/loadgen' && e.to === 'shop/frontend');
    const cards = await page.$$eval('[data-testid=map-card]', (els) =>
      els.map((e) => e.getAttribute('data-card')),
    );
    return toDb && sameNode && wanted.every((c) => cards.includes(c)) ? { toDb, sameNode, list } : undefined;
  });
  assert.equal(found.toDb.encryption, 'encrypted', JSON.stringify(found.toDb));
  // api is on node2, api-2 beside db on node3 (same-node): the one tunnel is node2 -> node3
  assert.equal(found.toDb.tunnels, 'node2→node3');
  assert.match(found.toDb.verdicts, /FORWARDED/);
  assert.equal(found.sameNode.encryption, 'same-node');
  const frontendToApi = found.list.find((e) => e.from === 'shop/frontend' && e.to === 'shop/api');
  assert.equal(frontendToApi?.encryption, 'encrypted');
  for (const ns of ['shop', 'data', 'kube-system'])
    assert.equal(await page.locator(`[data-testid=ns-${ns}]`).count(), 1, `namespace box ${ns}`);
  await shot('map');
});

interface FlowLine {
  uuid?: string;
}

test('flows filtered by pod and encrypted=false are the flows `wirescope observe` gives for the same flags; export returns them', async () => {
  // a closed time range: the same flows for both, however long each takes to ask
  const until = new Date(Date.now() - 1000).toISOString();
  const since = new Date(Date.now() - 20_000).toISOString();
  const observe = cli(
    'observe',
    '--pod',
    'shop/frontend',
    '--unencrypted',
    '--since',
    since,
    '--until',
    until,
    '-o',
    'json',
  );
  assert.equal(observe.code, 0, observe.stderr);
  const expected = observe.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as FlowLine).uuid)
    .sort();
  assert.ok(
    expected.length > 0,
    'the lab produced unencrypted flows of shop/frontend (same-node, delivered)',
  );
  const query = `filter=pod%3Dshop%2Ffrontend&filter=encrypted%3Dfalse&since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`;
  await page.goto(`${BASE}/flows?${query}`);
  await page.waitForSelector('[data-testid=flow-row]', { timeout: 10_000 });
  await eventually('the table to hold every flow of the range', 10_000, async () => {
    const text = await page.locator('[data-testid=flow-count]').textContent();
    return text?.startsWith(`${expected.length} flows`) ? true : undefined;
  });
  const visible = await page.$$eval('[data-testid=flow-row]', (els) =>
    els.map((e) => e.getAttribute('data-uuid')),
  );
  for (const uuid of visible)
    assert.ok(expected.includes(uuid ?? undefined), `row ${uuid} is one observe printed`);
  for (const text of await page.$$eval('[data-testid=flow-row]', (els) =>
    els.map((e) => e.textContent ?? ''),
  ))
    assert.ok(text.includes('shop/frontend'), text);
  await shot('flows-filtered');
  const href = await page.locator('[data-testid=export-jsonl]').getAttribute('href');
  const exported = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
  const exportedIds = exported
    .trimEnd()
    .split('\n')
    .map((l) => (JSON.parse(l) as FlowLine).uuid)
    .sort();
  assert.deepEqual(exportedIds, expected, 'export = the table = observe');
  const csv = await page.evaluate(
    async (url) => (await fetch(url!)).text(),
    await page.locator('[data-testid=export-csv]').getAttribute('href'),
  );
  assert.equal(csv.trimEnd().split('\n').length, expected.length + 1);
});

test('a bad filter shows an inline error; opening a row pauses and the details show the WireGuard peer and raw JSON', async () => {
  await page.goto(`${BASE}/flows?filter=verdict%3DSOMETIMES`);
  await page.waitForSelector('[data-testid=filter-error]', { timeout: 10_000 });
  assert.match((await page.locator('[data-testid=filter-error]').textContent()) ?? '', /SOMETIMES/);
  // sent by frontend and seen on its own node (node1), encrypted: the peer is the receiver's node
  await page.goto(
    `${BASE}/flows?filter=from%3Apod%3Dshop%2Ffrontend&filter=node%3Dnode1&filter=encrypted%3Dtrue`,
  );
  await page.waitForSelector('[data-testid=flow-row]', { timeout: 15_000 });
  await page.locator('[data-testid=flow-row]').first().click();
  await page.waitForSelector('[data-testid=resume]');
  const peer = (await page.locator('[data-testid=detail-peer] .field-value').textContent()) ?? '';
  assert.match(peer, /^node[23]$/, 'frontend (node1) talks to api on node2 and api-2 on node3');
  assert.match(
    (await page.locator('[data-testid=detail-encryption]').textContent()) ?? '',
    /WireGuard → node[23]/,
  );
  await shot('flow-details');
  await page.locator('[data-testid=tab-journey]').click();
  const journey = (await page.locator('[data-testid=journey]').textContent()) ?? '';
  assert.match(journey, /from-endpoint on node1/);
  // a live row carries the fields the table needs; the panel fetches the whole flow by uuid
  await page.waitForSelector('[data-testid=details-partial]', { state: 'detached', timeout: 5_000 });
  await page.locator('[data-testid=tab-json]').click();
  const raw = JSON.parse((await page.locator('[data-testid=raw-json]').textContent()) ?? '{}') as {
    extensions?: { peer_node?: string };
  };
  assert.equal(raw.extensions?.peer_node, peer);
  await page.locator('[data-testid=details-close]').click();
  await page.waitForSelector('[data-testid=pause]');
});

test('the map exports as a standalone SVG; the flows table hides columns (kept on reload) and sorts by one', async () => {
  await page.goto(`${BASE}/map`);
  await page.waitForSelector('[data-testid=map-card]', { timeout: 15_000 });
  const cards = await page.locator('[data-testid=map-card]').count();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-testid=export-svg]').click(),
  ]);
  assert.match(download.suggestedFilename(), /^wirescope-map-.*\.svg$/);
  const svg = await readFile((await download.path())!, 'utf8');
  assert.match(svg, /^<\?xml[^>]*>\n<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<style>[^<]*\.card-box/, 'the map style rules travel with it');
  assert.ok((svg.match(/data-testid="map-card"/g) ?? []).length >= cards, `${cards} cards`);
  assert.match(svg, /data-from="shop\/api" data-to="data\/db"/);

  await page.goto(`${BASE}/flows`);
  await page.waitForSelector('[data-testid=flow-row]', { timeout: 15_000 });
  await page.locator('[data-testid=column-picker] summary').click();
  await page.locator('[data-testid=column-tcp-flags]').uncheck();
  assert.equal(await page.locator('[data-testid=th-tcp-flags]').count(), 0);
  await page.reload();
  await page.waitForSelector('[data-testid=flow-row]', { timeout: 15_000 });
  assert.equal(await page.locator('[data-testid=th-tcp-flags]').count(), 0, 'hidden after a reload');
  assert.equal(await page.locator('[data-testid=th-encryption]').count(), 1);
  await page.locator('[data-testid=pause]').click();
  await page.locator('[data-testid=th-node]').click();
  assert.equal(await page.locator('[data-testid=th-node]').getAttribute('data-sort'), 'ascending');
  const nodes = await page.$$eval('[data-testid=flow-row] .col-node', (els) =>
    els.map((e) => e.textContent ?? ''),
  );
  assert.ok(nodes.length > 1);
  assert.deepEqual(nodes, [...nodes].sort(), 'rows ordered by node');
  await shot('flows-sorted-by-node');
  await page.locator('[data-testid=th-node]').click();
  const down = await page.$$eval('[data-testid=flow-row] .col-node', (els) =>
    els.map((e) => e.textContent ?? ''),
  );
  assert.deepEqual(down, [...down].sort().reverse(), 'then descending');
  await page.locator('[data-testid=column-picker] summary').click();
  await page.locator('[data-testid=column-tcp-flags]').check();
  await page.locator('[data-testid=resume]').click();
});

test("the Encryption, Drops and Health screens chart the lab's Prometheus", async () => {
  const wanted: [string, string][] = [
    ['encryption', 'encrypted-bytes'],
    ['encryption', 'handshake-age'],
    ['drops', 'flows-by-verdict'],
    ['health', 'ring-fill'],
  ];
  for (const [screen, chart] of wanted) {
    await page.goto(`${BASE}/${screen}`);
    // Prometheus scrapes every 2 s; a rate needs two samples in its window, and charts refresh every 10 s
    await eventually(`the ${chart} chart on /${screen} to draw series`, 30_000, async () => {
      const n = await page
        .locator(`[data-testid=chart-plot][data-chart=${chart}]`)
        .getAttribute('data-series', { timeout: 1000 })
        .catch(() => null);
      if (Number(n) > 0) return true;
      await page.reload();
      return undefined;
    }).catch(async (err: Error) => {
      const text = await page.locator(`[data-testid=chart][data-chart=${chart}]`).textContent();
      throw new Error(`${err.message}: ${text}`);
    });
    await page.locator('[data-testid=charts]').scrollIntoViewIfNeeded();
    await shot(`charts-${screen}`);
  }
  // the pairs' encrypted bytes are the kernel's counts: every pair of the lab's 3 nodes carries some
  const res = await fetch(`${BASE}/api/metrics/encrypted-bytes?range=5m`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { series: { name: string; points: [number, number][] }[] };
  const encrypted = body.series.filter(
    (s) => s.name.endsWith(' encrypted') && s.points.some(([, v]) => v > 0),
  );
  assert.ok(encrypted.length >= 1, body.series.map((s) => s.name).join(', '));
});

async function cellStates(): Promise<Record<string, string>> {
  const cells = await page.$$eval('[data-testid=coverage-cell]', (els) =>
    els.map((e) => [
      e.getAttribute('data-pair') ?? '',
      `${e.getAttribute('data-state')} ${e.querySelector('.cov-share')?.textContent ?? ''}`,
    ]),
  );
  return Object.fromEntries(cells);
}

test('the coverage matrix shows every pair Encrypted at 100%; a pair made plaintext (strict off, peer removed) turns Plaintext within 5 s', async () => {
  await page.goto(`${BASE}/encryption`);
  const pairs = ['node1→node2', 'node1→node3', 'node2→node1', 'node2→node3', 'node3→node1', 'node3→node2'];
  const all = await eventually('every pair Encrypted 100%', 20_000, async () => {
    const states = await cellStates();
    return pairs.every((p) => states[p] === 'Encrypted 100%') ? states : undefined;
  }).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await cellStates())}`);
  });
  assert.equal(Object.keys(all).length, 6);
  await shot('encryption-matrix');
  // node1 -> node3 made plaintext, strict mode off: node3 leaves the cluster store (its agent
  // stopped, its record deleted), node1 removes the WireGuard peer, and a route sends node3's pod
  // CIDR over the underlay: pod traffic now leaves node1 in clear (the datapath flags it)
  assert.equal(cli('lab', 'stop', 'agent-node3').code, 0);
  deleteNodeRecord('node3');
  try {
    await eventually('node1 to remove its node3 peer', 15_000, async () => {
      const enc = (await (await fetch(`${BASE}/api/encryption`)).json()) as EncryptionResponse;
      const node1 = enc.nodes.find((n) => n.nodeName === 'node1');
      return node1 && !node1.peers.some((p) => p.peerNode === 'node3') ? true : undefined;
    });
    assert.equal(
      inNs('wsl-node1', 'ip', 'route', 'replace', '10.244.3.0/24', 'via', '10.77.0.13', 'dev', 'eth0').code,
      0,
    );
    const start = Date.now();
    const states = await eventually('node1→node3 to turn Plaintext', 5_000, async () => {
      const s = await cellStates();
      return s['node1→node3']?.startsWith('Plaintext') ? s : undefined;
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await cellStates())}`);
    });
    console.log(`node1→node3 ${states['node1→node3']} after ${Date.now() - start} ms`);
    await shot('encryption-plaintext');
    await page.locator('[data-pair="node1→node3"]').click();
    await page.waitForSelector('[data-testid=drift]');
    const drift = (await page.locator('[data-testid=drift]').textContent()) ?? '';
    assert.match(drift, /✖/, 'the checklist names what is wrong with the pair');
    const leaks = await page.locator('[data-testid=leak-table] tbody tr').allTextContents();
    assert.ok(
      leaks.some((row) => row.includes('node1 → node3')),
      `a node1 → node3 leak row in ${leaks.join(' | ')}`,
    );
    await shot('encryption-drift');
    // the cell opens that pair's flows, plaintext first
    await page.locator('[data-testid=pair-flows]').click();
    await page.waitForSelector('[data-testid=flow-row]', { timeout: 10_000 });
    assert.match(page.url(), /\/flows\?filter=node%3Dnode1&filter=peer%3Dnode3&filter=encrypted%3Dfalse/);
    await shot('pair-plaintext-flows');
  } finally {
    inNs('wsl-node1', 'ip', 'route', 'del', '10.244.3.0/24', 'via', '10.77.0.13', 'dev', 'eth0');
    assert.equal(cli('lab', 'start', 'agent-node3').code, 0);
  }
  await eventually('node3 back: the relay sees 3/3 nodes', 30_000, async () => {
    const status = (await (await fetch(`${BASE}/api/status`)).json()) as StatusResponse;
    return status.connectedNodes === 3 && status.unavailableNodes.length === 0 ? true : undefined;
  });
});

test('stopping an agent shows the node banner within 5 s; restarting it clears the banner', async () => {
  await page.goto(`${BASE}/health`);
  await page.waitForSelector('[data-testid=nodes-table]');
  assert.equal(cli('lab', 'stop', 'agent-node3').code, 0);
  const stopped = Date.now();
  try {
    await page.waitForSelector('[data-testid=node-banner]', { timeout: 5_000 });
    console.log(`banner after ${Date.now() - stopped} ms`);
    assert.match((await page.locator('[data-testid=node-banner]').textContent()) ?? '', /node3/);
    await shot('health-node-gone');
  } finally {
    assert.equal(cli('lab', 'start', 'agent-node3').code, 0);
  }
  await page.waitForSelector('[data-testid=node-banner]', { state: 'detached', timeout: 30_000 });
  await shot('health-recovered');
  assert.doesNotMatch(uiOutput, /Error/);
});
