// UI benchmark (REPLAY: recorded flows from packages/flow/testdata, re-stamped as they are pushed,
// not a live lab). A real Observer gRPC server stands in for the relay; the real UI server runs as
// its own process reading it; Debian's Chromium (Playwright) shows the map screen (service map and
// flows table) with no flows (the machine's own long tasks, an idle baseline), then while flows
// arrive at 1k, 5k and 10k flows/s, BENCH_STEP_MS (30 s) each. Per step:
// long tasks (PerformanceObserver 'longtask'), flows the browser took, the UI server's CPU; JS heap
// (after a forced GC) at the start and the end of the run. Then a replayed 3,000-pod cluster (300
// workloads in 10 namespaces, synthetic names on recorded flows) is loaded as history into the map
// and timed until every card is drawn. The baseline of each step is its offered rate, measured in
// the same run; flows a slow browser could not take are reported as skipped (backpressure).
// Last line: ui max_flows_per_s_no_longtask_over_100ms=<n> heap_growth_mib=<n> server_cpu_pct_at_5k=<n>
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { clone } from '@bufbuild/protobuf';
import { FlowSchema, loadRecordedFlows } from '@wirescope/flow';
import { RelayClient } from '@wirescope/ui';
import { startReplayRelay } from '@wirescope/ui/testing';
import { chromium } from 'playwright-core';

const stepMs = Number(process.env.BENCH_STEP_MS ?? 30_000);
// 0 first: the same screens with no flows, the long tasks this machine gives the page by itself
const rates = (process.env.BENCH_RATES ?? '0,1000,5000,10000').split(',').map(Number);
const port = 12900 + Math.floor(Math.random() * 90);
const base = `http://127.0.0.1:${port}`;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks of 10 ms
}

async function main(): Promise<void> {
  // BENCH_UI_BIN: another build of the UI server (with its own SPA), for an A/B in the same state
  const uiBin = process.env.BENCH_UI_BIN ?? createRequire(import.meta.url).resolve('@wirescope/ui/bin');
  const relay = await startReplayRelay();
  // BENCH_UI_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/ui-prof", profiles the server under load
  const nodeArgs = (process.env.BENCH_UI_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = spawn(
    process.execPath,
    [...nodeArgs, uiBin, '--listen', `127.0.0.1:${port}`, '--relay', relay.address],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    for (let i = 0; ; i++) {
      if (
        await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 100) throw new Error('the UI server did not start');
      await sleep(100);
    }
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await page.addInitScript(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: true });
    });
    const cdp = await page.context().newCDPSession(page);
    const heapMiB = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      return usedSize / (1 << 20);
    };
    await page.goto(`${base}/map`);
    await page.waitForSelector('[data-testid=connection]');
    await sleep(1000);
    const heapStart = await heapMiB();
    const flowCount = () =>
      page.evaluate(() => document.querySelector('[data-testid=flow-count]')?.textContent ?? '');
    console.log(
      `ui bench (replay): steps of ${stepMs / 1000} s at ${rates.join(', ')} flows/s; heap at start ${heapStart.toFixed(1)} MiB`,
    );

    const results: { rate: number; maxLongTask: number; cpuPct: number; takenShare: number }[] = [];
    let skippedBefore = 0;
    // BENCH_BROWSER_PROFILE=FILE writes the page's CPU profile of the steps (DevTools format)
    const profilePath = process.env.BENCH_BROWSER_PROFILE;
    if (profilePath) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    for (const rate of rates) {
      await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks = []));
      const cpu0 = cpuSeconds(server.pid!);
      const start = performance.now();
      let offered = 0;
      // a 10 ms tick pushes what the rate owes by now: bounded, stops by itself at the step's end
      while (performance.now() - start < stepMs) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate) - offered;
        if (due > 0) {
          relay.replay(due);
          offered += due;
        }
        await sleep(10);
      }
      await sleep(500);
      const cpuPct = ((cpuSeconds(server.pid!) - cpu0) / ((performance.now() - start) / 1000)) * 100;
      const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
      const rateText = await page.evaluate(
        () => document.querySelector('[data-testid=connection]')?.textContent ?? '',
      );
      const skipped = await page.evaluate(
        () => document.querySelector('[data-testid=skipped]')?.textContent ?? 'none skipped',
      );
      const maxLongTask = Math.max(0, ...longTasks);
      // skipped flows are the server's backpressure: a step the browser did not keep up with fails
      const skippedTotal = Number(/^(\d+) flows skipped/.exec(skipped)?.[1] ?? 0);
      const takenShare = offered ? 1 - (skippedTotal - skippedBefore) / offered : 1;
      skippedBefore = skippedTotal;
      results.push({ rate, maxLongTask, cpuPct, takenShare });
      console.log(
        `step ${rate} flows/s${rate === 0 ? ' (idle baseline)' : ''}: offered ${offered} in ${((performance.now() - start) / 1000).toFixed(1)} s, ` +
          `long tasks ${longTasks.length} (max ${maxLongTask.toFixed(0)} ms), UI server CPU ${cpuPct.toFixed(1)}% of a core, ` +
          `browser at the end: ${rateText.trim()}; table: ${await flowCount()}; ${skipped} (total); ` +
          `browser took ${(takenShare * 100).toFixed(1)}% of this step's flows`,
      );
    }
    if (profilePath) {
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown };
      writeFileSync(profilePath, JSON.stringify(profile));
    }
    const heapEnd = await heapMiB();
    const heapGrowth = heapEnd - heapStart;
    console.log(
      `heap ${heapStart.toFixed(1)} -> ${heapEnd.toFixed(1)} MiB (the table keeps at most 10,000 flows)`,
    );

    // a replayed 3,000-pod cluster: 300 workloads of 10 pods in 10 namespaces, each talking to the next
    const recorded = loadRecordedFlows().filter((f) => f.source?.podName && f.destination?.podName);
    // the history range holds the 3,000 pods' flows only, stamped to the millisecond after the
    // last step's: a range from a second before took in up to 20,000 of the steps' flows too
    await sleep(20);
    const bigStart = Date.now();
    for (let w = 0; w < 300; w++)
      for (let p = 0; p < 10; p++) {
        const f = clone(FlowSchema, recorded[(w * 10 + p) % recorded.length]!);
        const ns = `team-${w % 10}`;
        const peer = (w + 1) % 300;
        f.source!.namespace = ns;
        f.source!.podName = `svc-${w}-${p}`;
        f.source!.labels = [`k8s:app=svc-${w}`, `k8s:io.kubernetes.pod.namespace=${ns}`];
        f.destination!.namespace = `team-${peer % 10}`;
        f.destination!.podName = `svc-${peer}-0`;
        f.destination!.labels = [`k8s:app=svc-${peer}`, `k8s:io.kubernetes.pod.namespace=team-${peer % 10}`];
        const now = Date.now();
        f.time = {
          $typeName: 'google.protobuf.Timestamp',
          seconds: BigInt(Math.floor(now / 1000)),
          nanos: (now % 1000) * 1_000_000,
        };
        relay.observer.push(f);
      }
    const since = new Date(bigStart).toISOString();
    // the stand-in relay lives in this process, and its first GetNamespaces after the steps
    // decodes every flow replayed since (the observer notes namespaces of pushed bytes lazily:
    // 1-5 s here, with Playwright waiting on the same thread); the page asks for namespaces as it
    // loads, so that call is made straight to the stand-in first, timed and printed apart
    await page.goto('about:blank');
    const direct = new RelayClient({ address: relay.address, timeoutMs: 60_000 });
    const settle0 = performance.now();
    await direct.namespaces();
    const settleMs = performance.now() - settle0;
    direct.close();
    const t0 = performance.now();
    await page.goto(`${base}/map?since=${encodeURIComponent(since)}`);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=map-card]').length >= 300,
      undefined,
      {
        timeout: 60_000,
        polling: 20,
      },
    );
    const mapMs = performance.now() - t0;
    // where the time went: the history request (relay query + the server's JSON) vs the browser
    const history = await page.evaluate(() => {
      const e = performance.getEntriesByType('resource').find((r) => r.name.includes('/api/flows?')) as
        PerformanceResourceTiming | undefined;
      return e ? { start: e.startTime, ttfb: e.responseStart - e.startTime, total: e.duration } : undefined;
    });
    console.log(
      `3,000-pod replayed cluster (300 workloads): map drawn in ${(mapMs / 1000).toFixed(2)} s from navigation (target < 2 s)` +
        (history
          ? `; history request sent at ${history.start.toFixed(0)} ms, first byte after ${history.ttfb.toFixed(0)} ms, done after ${history.total.toFixed(0)} ms`
          : '') +
        `; before it, the stand-in's first GetNamespaces after the steps took ${settleMs.toFixed(0)} ms`,
    );
    await page.screenshot({ path: '/tmp/wirescope-bench-ui-3000-pods.png' });

    // a rate counts when the browser took (nearly) every flow and no long task went over 100 ms
    const passed = results
      .filter((r) => r.rate > 0 && r.maxLongTask <= 100 && r.takenShare >= 0.99)
      .map((r) => r.rate);
    const at5k = results.find((r) => r.rate === 5000);
    console.log(
      `ui max_flows_per_s_no_longtask_over_100ms=${passed.length ? Math.max(...passed) : 0} ` +
        `heap_growth_mib=${heapGrowth.toFixed(1)} server_cpu_pct_at_5k=${at5k ? at5k.cpuPct.toFixed(1) : 'n/a'}`,
    );
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await relay.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
