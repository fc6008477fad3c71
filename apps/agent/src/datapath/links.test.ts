import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listLinks, sysfsLinks } from './links.js';

const byName = (links: { ifname: string }[]) => [...links].sort((a, b) => a.ifname.localeCompare(b.ifname));

test('sysfs links of this namespace are what `ip -j link show` lists', async () => {
  const viaIp = (
    JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
      ifindex: number;
      ifname: string;
      address?: string;
    }[]
  ).map((l) => ({ ifindex: l.ifindex, ifname: l.ifname, ...(l.address ? { address: l.address } : {}) }));
  const fast = sysfsLinks();
  assert.ok(fast, 'sysfs shows this namespace');
  assert.deepEqual(byName(fast), byName(viaIp));
  assert.deepEqual(byName(await listLinks()), byName(viaIp));
});

test(
  'a namespace entered without its own sysfs is not read from sysfs',
  { skip: process.getuid?.() !== 0 && 'needs root' },
  (t) => {
    const ns = `wst-links-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    t.after(() => execFileSync('ip', ['netns', 'del', ns]));
    const links = fileURLToPath(new URL('./links.ts', import.meta.url));
    const script = `import(${JSON.stringify(links)}).then(async (m) => console.log(JSON.stringify({ sysfs: m.sysfsLinks() ?? null, all: await m.listLinks() })))`;
    // nsenter keeps the root namespace's /sys mounted: its names are not the namespace's
    const out = JSON.parse(
      execFileSync('nsenter', [`--net=/run/netns/${ns}`, process.execPath, '--import', 'tsx', '-e', script], {
        encoding: 'utf8',
      }),
    ) as { sysfs: unknown; all: { ifname: string }[] };
    assert.equal(out.sysfs, null);
    assert.deepEqual(
      out.all.map((l) => l.ifname),
      ['lo'],
      'listLinks asked ip instead',
    );
    // `ip netns exec` mounts the namespace's own sysfs: read from there
    const inside = JSON.parse(
      execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', '-e', script], {
        encoding: 'utf8',
      }),
    ) as { sysfs: { ifname: string }[] | null };
    assert.deepEqual(
      inside.sysfs?.map((l) => l.ifname),
      ['lo'],
    );
  },
);
