// The datapath loader against the real kernel, inside a throwaway network namespace (wst4-…):
// a TUN device stands in for wireguard-go's, a veth for a pod's lxc, another veth for the underlay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventDecoder, type DropEvent } from '@wirescope/events';
import { ensureBpfFs, tcxPrograms, unmountIfMountedNow } from '@wirescope/libbpf';
import { BpfDatapath, DEFAULT_BPF_DIR, DatapathError, type DatapathOptions } from './loader.js';
import { IpcacheFlag, nodeIdOf } from './maps.js';

const NS = `wst4-loader-${process.pid}`;
const ip = (...args: string[]) => execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8' });
const tcFilters = (dev: string, dir: string) =>
  execFileSync('tc', ['-n', NS, 'filter', 'show', 'dev', dev, dir], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(' handle '));

const tcx = (dev: string, dir: 'ingress' | 'egress') =>
  tcxPrograms({ ifname: dev, direction: dir, netns: NS });
/** Programs on a hook, either kind: a killed agent's successor must leave exactly one. */
const programsOn = (dev: string, dir: 'ingress' | 'egress') =>
  tcFilters(dev, dir).length + tcx(dev, dir).length;
const bpffs = ensureBpfFs();

const options = (overrides: Partial<DatapathOptions> = {}): DatapathOptions => ({
  nodeName: 'node1',
  underlayIP: '10.99.0.1',
  wgInterface: 'wst4wg',
  wgPort: 51871,
  strict: false,
  aggregationSeconds: 5,
  netns: NS,
  log: () => {},
  onBatch: () => {},
  ...overrides,
});

const state = (ifaces: string[]) => ({
  ipcache: [
    {
      prefix: '10.98.1.0/24',
      identity: 2,
      nodeId: nodeIdOf('10.99.0.1'),
      tunnelIP: '10.99.0.1',
      ifindex: 0,
      flags: IpcacheFlag.POD | IpcacheFlag.LOCAL,
    },
    {
      prefix: '10.98.2.0/24',
      identity: 2,
      nodeId: nodeIdOf('10.99.0.2'),
      tunnelIP: '10.99.0.2',
      ifindex: 0,
      flags: IpcacheFlag.POD,
    },
    ...ifaces.map((_, i) => ({
      prefix: `10.98.1.${10 + i}/32`,
      identity: 300 + i,
      nodeId: nodeIdOf('10.99.0.1'),
      tunnelIP: '10.99.0.1',
      ifindex: 0,
      flags: IpcacheFlag.POD | IpcacheFlag.LOCAL,
    })),
  ],
  endpoints: ifaces.map((name, i) => ({ interface: name, ip: `10.98.1.${10 + i}`, identity: 300 + i })),
  peerNodeIds: [nodeIdOf('10.99.0.2')],
});

before(() => {
  execFileSync('ip', ['netns', 'add', NS]);
  ip('tuntap', 'add', 'dev', 'wst4wg', 'mode', 'tun');
  ip('link', 'set', 'wst4wg', 'up');
  ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer');
  ip('addr', 'add', '10.99.0.1/24', 'dev', 'eth0');
  ip('link', 'set', 'eth0', 'up');
  for (const lxc of ['lxca', 'lxcb']) {
    ip('link', 'add', lxc, 'type', 'veth', 'peer', 'name', `${lxc}p`);
    ip('link', 'set', lxc, 'up');
  }
});

after(() => {
  execFileSync('ip', ['netns', 'del', NS]);
  unmountIfMountedNow(bpffs);
});

test('loads every object, attaches to the TUN, the underlay and each pod veth, fills the maps (cls_bpf filters)', async () => {
  const dp = new BpfDatapath(options({ tcAttach: 'filter' }));
  try {
    await dp.start();
    await dp.sync(state(['lxca', 'lxcb']));
    const status = dp.status();
    assert.equal(status.loaded, true);
    const attached = status.attachments
      .filter((a) => a.attached)
      .map((a) => `${a.interface}/${a.program}`)
      .sort();
    assert.deepEqual(attached, [
      '-/kfree_skb',
      'eth0/from_network',
      'eth0/to_network',
      'lxca/from_endpoint',
      'lxca/to_endpoint',
      'lxcb/from_endpoint',
      'lxcb/to_endpoint',
      'wst4wg/from_crypto',
      'wst4wg/to_crypto',
    ]);
    assert.equal(tcFilters('lxca', 'ingress').length, 1);
    assert.deepEqual(tcx('lxca', 'ingress'), []);
    assert.ok(status.attachments.every((a) => a.direction === 'tracing' || a.kind === 'filter'));
    assert.match(tcFilters('wst4wg', 'egress')[0] ?? '', /to_crypto/);
    assert.deepEqual(dp.stats().redirects, 0);
    dp.setStrict(true);
    assert.equal(dp.status().strict, true);
  } finally {
    dp.stop();
  }
  assert.deepEqual(tcFilters('lxca', 'ingress'), [], 'stop removes the filters');
  assert.deepEqual(tcFilters('eth0', 'egress'), []);
});

test('on this kernel the tc programs are TCX links, pinned per namespace, with no clsact qdisc', async () => {
  const logs: string[] = [];
  const dp = new BpfDatapath(options({ log: (m) => logs.push(m) }));
  try {
    await dp.start();
    await dp.sync(state(['lxca', 'lxcb']));
    const status = dp.status();
    const tc = status.attachments.filter((a) => a.direction !== 'tracing');
    assert.equal(tc.length, 8);
    for (const a of tc) {
      assert.equal(a.kind, 'tcx', JSON.stringify(a));
      assert.ok(a.attached && (a.linkId ?? 0) > 0, JSON.stringify(a));
    }
    for (const [dev, dir] of [
      ['lxca', 'ingress'],
      ['lxca', 'egress'],
      ['lxcb', 'ingress'],
      ['wst4wg', 'egress'],
      ['wst4wg', 'ingress'],
      ['eth0', 'egress'],
      ['eth0', 'ingress'],
    ] as const) {
      assert.equal(tcx(dev, dir).length, 1, `${dev} ${dir}`);
      assert.deepEqual(tcFilters(dev, dir), [], `${dev} ${dir}: no filter`);
    }
    assert.doesNotMatch(ip('link', 'show', 'lxca'), /clsact/);
    assert.ok(
      logs.some((l) => /tc programs as TCX links/.test(l)),
      logs.join('\n'),
    );
  } finally {
    dp.stop();
  }
  assert.deepEqual(tcx('lxca', 'ingress'), [], 'stop detaches the links');
  assert.deepEqual(tcx('eth0', 'egress'), []);
});

test('a vanished pod interface is detached without crashing; the others keep running', async () => {
  const dp = new BpfDatapath(options());
  try {
    await dp.start();
    ip('link', 'add', 'lxcgone', 'type', 'veth', 'peer', 'name', 'lxcgonep');
    ip('link', 'set', 'lxcgone', 'up');
    await dp.sync(state(['lxca', 'lxcgone']));
    assert.ok(dp.status().attachments.some((a) => a.interface === 'lxcgone' && a.attached));
    ip('link', 'del', 'lxcgone');
    await dp.sync(state(['lxca', 'lxcgone'])); // the store still lists it
    const names = dp.status().attachments.map((a) => a.interface);
    assert.ok(!names.includes('lxcgone'));
    assert.ok(names.includes('lxca'));
    await dp.sync(state(['lxca']));
  } finally {
    dp.stop();
  }
});

for (const [firstKind, secondKind] of [
  ['filter', 'filter'],
  ['tcx', 'tcx'],
  ['filter', 'tcx'],
] as const) {
  test(`a second loader (an agent restarted after being killed) takes the hooks over instead of adding more: ${firstKind} then ${secondKind}`, async () => {
    const logs: string[] = [];
    const first = new BpfDatapath(options({ tcAttach: firstKind }));
    const second = new BpfDatapath(options({ tcAttach: secondKind, log: (m) => logs.push(m) }));
    const hooks = [
      ['lxca', 'ingress'],
      ['lxca', 'egress'],
      ['wst4wg', 'egress'],
      ['eth0', 'ingress'],
    ] as const;
    try {
      await first.start();
      await first.sync(state(['lxca', 'lxcb']));
      await second.start();
      await second.sync(state(['lxca']));
      for (const [dev, dir] of hooks) assert.equal(programsOn(dev, dir), 1, `${dev} ${dir}`);
      assert.ok(second.status().attachments.every((a) => a.attached));
      if (firstKind === 'tcx') {
        assert.ok(
          logs.some((l) => /took over 6 TCX links a previous agent left pinned \(no gap\)/.test(l)),
          logs.join('\n'),
        );
        // lxcb is not this node's any more: what the first agent left there goes
        assert.ok(
          logs.some((l) => /removed 2 TCX links .*lxcb_(e|in)gress, lxcb_(e|in)gress/.test(l)),
          logs.join('\n'),
        );
        assert.deepEqual(tcx('lxcb', 'ingress'), []);
      }
    } finally {
      second.stop();
      first.stop();
    }
    for (const [dev, dir] of hooks) assert.equal(programsOn(dev, dir), 0, `${dev} ${dir} after stop`);
  });
}

test('a program the verifier rejects is reported with its name and the verifier message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wst4-bad-bpf-'));
  try {
    for (const f of readdirSync(DEFAULT_BPF_DIR))
      if (f.endsWith('.bpf.o')) copyFileSync(join(DEFAULT_BPF_DIR, f), join(dir, f));
    const src = join(dir, 'bad.bpf.c');
    execFileSync('sh', [
      '-c',
      `cat > ${src} <<'EOF'
#include "lib/ringbuf.h"
#include "lib/maps.h"
SEC("tc") int from_endpoint(struct __sk_buff *skb) { return *(int *)(long)skb->data; }
char LICENSE[] SEC("license") = "GPL";
EOF`,
    ]);
    execFileSync('clang', [
      '-O2',
      '-g',
      '-target',
      'bpf',
      `-I${join(DEFAULT_BPF_DIR, '..', 'include')}`,
      `-I${join(DEFAULT_BPF_DIR, '..')}`,
      '-c',
      src,
      '-o',
      join(dir, 'lxc.bpf.o'),
    ]);
    const dp = new BpfDatapath(options({ bpfDir: dir }));
    await assert.rejects(dp.start(), (err: unknown) => {
      assert.ok(err instanceof DatapathError);
      assert.match(err.message, /lxc\.bpf\.o/);
      assert.match(err.message, /from_endpoint/);
      assert.match(err.message, /invalid access to packet|R\d/);
      return true;
    });
    dp.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kernel drops: reported from the node namespace and its pods’ namespaces only, whatever the addresses say', async () => {
  // Three namespaces share this kernel: the node (NS), one of its pods, and a namespace of another
  // node. In each, UDP to a closed port of an address of this node's pod CIDR is a NO_SOCKET drop.
  const pod = `${NS}-pod`;
  const other = `${NS}-other`;
  const drops: DropEvent[] = [];
  const decoder = new EventDecoder();
  const dp = new BpfDatapath(
    options({
      onBatch: (batch) => {
        for (const e of decoder.decodeBatch(batch)) if (e.kind === 'drop' && e.kernel) drops.push(e);
      },
    }),
  );
  const sendUdp = (ns: string, dst: string) =>
    execFileSync('ip', ['netns', 'exec', ns, 'bash', '-c', `echo drop > /dev/udp/${dst}/9`]);
  try {
    for (const [ns, addr] of [
      [pod, '10.98.1.21'],
      [other, '10.98.1.22'],
    ] as const) {
      execFileSync('ip', ['netns', 'add', ns]);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      execFileSync('ip', ['-n', ns, 'addr', 'add', `${addr}/32`, 'dev', 'lo']);
    }
    ip('link', 'set', 'lo', 'up');
    ip('addr', 'add', '10.98.1.20/32', 'dev', 'lo');
    await dp.start();
    const base = state(['lxca']);
    await dp.sync({
      ...base,
      endpoints: [{ interface: 'lxca', ip: '10.98.1.10', identity: 300, netns: `/run/netns/${pod}` }],
    });
    const netns = dp.status().netns;
    assert.ok(netns?.node && netns.inodes.length === 2, JSON.stringify(netns));
    sendUdp(NS, '10.98.1.20');
    sendUdp(pod, '10.98.1.21');
    sendUdp(other, '10.98.1.22');
    const seen = () => new Set(drops.filter((d) => d.packet.dport === 9).map((d) => d.packet.daddr));
    for (let i = 0; i < 40 && seen().size < 2; i++) await sleep(50);
    await sleep(200);
    assert.deepEqual([...seen()].sort(), ['10.98.1.20', '10.98.1.21']);
    for (const d of drops.filter((e) => e.packet.dport === 9)) {
      assert.equal(d.reason, 3, 'SKB_DROP_REASON_NO_SOCKET');
      assert.equal(d.packet.direction, 'ingress');
    }
  } finally {
    dp.stop();
    for (const ns of [pod, other]) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
});

test('a missing WireGuard device is a clear error', async () => {
  const dp = new BpfDatapath(options({ wgInterface: 'wst4nope' }));
  await assert.rejects(dp.start(), /WireGuard device wst4nope not found/);
});
