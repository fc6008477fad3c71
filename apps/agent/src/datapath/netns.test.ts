import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import {
  localNetns,
  localNetnsMap,
  netnsProblems,
  nodeNetnsPath,
  defaultStat,
  type StatFn,
} from './netns.js';

const NSFS = 4;
const fakeStat =
  (files: Record<string, { ino: number; dev?: number }>): StatFn =>
  (path) => {
    const f = files[path];
    if (!f) throw new Error(`ENOENT: no such file or directory, stat '${path}'`);
    return { ino: f.ino, dev: f.dev ?? NSFS };
  };

test('the node namespace is the managed one under /run/netns, else the agent’s own', () => {
  assert.equal(nodeNetnsPath('wsl-node1'), '/run/netns/wsl-node1');
  assert.equal(nodeNetnsPath(undefined), '/proc/self/ns/net');
});

test("the node's inode and each local pod's, deduplicated; endpoints without a usable path are reported, not guessed", () => {
  const stat = fakeStat({
    '/proc/self/ns/net': { ino: 4026532001 },
    '/run/netns/pod-a': { ino: 4026532010 },
    '/run/netns/pod-b': { ino: 4026532011 },
    '/run/netns/pod-b-again': { ino: 4026532011 },
    '/tmp/plain-file': { ino: 77, dev: 2049 },
  });
  const state = localNetns(
    '/proc/self/ns/net',
    [
      { interface: 'lxca', netns: '/run/netns/pod-a' },
      { interface: 'lxcb', netns: '/run/netns/pod-b' },
      { interface: 'lxcb2', netns: '/run/netns/pod-b-again' },
      { interface: 'lxcc' },
      { interface: 'lxcd', netns: '/run/netns/gone' },
      { interface: 'lxce', netns: '/tmp/plain-file' },
    ],
    stat,
  );
  assert.equal(state.node, 4026532001);
  assert.deepEqual(state.inodes.sort(), [4026532001, 4026532010, 4026532011]);
  assert.deepEqual(
    state.endpoints.map((e) => [e.interface, e.inode ?? null, e.error === undefined]),
    [
      ['lxca', 4026532010, true],
      ['lxcb', 4026532011, true],
      ['lxcb2', 4026532011, true],
      ['lxcc', null, false],
      ['lxcd', null, false],
      ['lxce', null, false],
    ],
  );
  assert.match(state.endpoints[3]?.error ?? '', /no network namespace path/);
  assert.match(state.endpoints[4]?.error ?? '', /ENOENT/);
  assert.match(state.endpoints[5]?.error ?? '', /not a network namespace file/);
  const problems = netnsProblems(state);
  assert.equal(problems.length, 3);
  assert.ok(problems.every((p) => /not reported/.test(p)));
});

test('an unreadable node namespace leaves scoping off (no node inode) and says so', () => {
  const state = localNetns(
    '/run/netns/missing',
    [{ interface: 'lxca', netns: '/run/netns/pod-a' }],
    fakeStat({
      '/run/netns/pod-a': { ino: 10 },
    }),
  );
  assert.equal(state.node, undefined);
  assert.deepEqual(state.inodes, [10]);
  assert.match(netnsProblems(state)[0] ?? '', /attributed by address only/);
});

test('ws_local_netns entries: u32 little-endian inode -> u8 1; out-of-range inodes are skipped', () => {
  const map = localNetnsMap([4026531840, 5, 0, -1, 2 ** 33]);
  assert.deepEqual([...map.keys()].sort(), ['000000f0', '05000000'].sort());
  for (const v of map.values()) assert.deepEqual([...v], [1]);
});

test('on this kernel, stat of a named netns file gives the inode /proc/<pid>/ns/net of a process inside it shows', () => {
  const ns = `wst10-netns-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const inside = execFileSync('ip', ['netns', 'exec', ns, 'readlink', '/proc/self/ns/net'], {
      encoding: 'utf8',
    }).trim();
    const state = localNetns(nodeNetnsPath(undefined), [{ interface: 'x', netns: `/run/netns/${ns}` }]);
    assert.equal(inside, `net:[${state.endpoints[0]?.inode}]`);
    assert.equal(readlinkSync('/proc/self/ns/net'), `net:[${state.node}]`);
    assert.equal(defaultStat(`/run/netns/${ns}`).dev, defaultStat('/proc/self/ns/net').dev, 'both on nsfs');
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});
