// TCX links on a real veth pair: packets observed, what the kernel runs on the hook (BPF_PROG_QUERY),
// pins that outlive their link's object and are taken over by the next, a filter replaced without
// a gap, and links taken away behind our back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { EventDecoder, type ProbeEvent } from '@wirescope/events';
import { bpfObject } from '@wirescope/bpf';
import {
  BpfObject,
  detachPinnedTcx,
  ensureBpfFs,
  liveResources,
  tcxPrograms,
  unmountIfMountedNow,
} from './index.js';
import { VethLab, exitUnlessRoot, waitFor } from './netns-fixture.js';

exitUnlessRoot();

const PROBE_OBJECT = bpfObject('probe');
const lab = new VethLab({ prefix: 'wst5-', tag: `t${process.pid % 10000}`, subnet: 15 });
const bpffs = ensureBpfFs();
const PIN_DIR = `/sys/fs/bpf/wirescope-test-${process.pid}`;
const decoder = new EventDecoder();
const events: ProbeEvent[] = [];
let probe: BpfObject;

before(() => {
  lab.up();
  mkdirSync(PIN_DIR, { recursive: true });
  probe = BpfObject.load(PROBE_OBJECT);
  probe.openRingBuffer('events', (batch) => {
    for (const e of decoder.decodeBatch(batch)) if (e.kind === 'probe') events.push(e);
  });
});

after(() => {
  probe?.close();
  lab.down();
  rmSync(PIN_DIR, { recursive: true, force: true });
  unmountIfMountedNow(bpffs);
});

const hook = (direction: 'ingress' | 'egress') => ({ ifname: lab.ifA, direction, netns: lab.nsA }) as const;
test('a TCX link runs the program without a clsact qdisc, and the kernel lists it on the hook', async () => {
  const ingress = probe.attachTc('probe_ingress', { ...hook('ingress'), kind: 'tcx' });
  const egress = probe.attachTc('probe_egress', { ...hook('egress'), kind: 'tcx' });
  try {
    assert.equal(ingress.kind, 'tcx');
    assert.ok(ingress.linkId > 0 && egress.linkId > ingress.linkId);
    assert.equal(ingress.ifindex, lab.ifindexA);
    assert.equal(ingress.takenOver, false);
    assert.deepEqual(tcxPrograms(hook('ingress')), [ingress.programId]);
    assert.deepEqual(tcxPrograms(hook('egress')), [egress.programId]);
    assert.doesNotMatch(lab.run(lab.nsA, 'tc', ['qdisc', 'show', 'dev', lab.ifA]), /clsact/);
    lab.run(lab.nsB, 'ping', ['-c', '1', '-W', '2', lab.ipA]);
    await waitFor(
      () =>
        events.some((e) => e.direction === 'ingress' && e.icmpType === 8 && e.saddr === lab.ipB) &&
        events.some((e) => e.direction === 'egress' && e.icmpType === 0 && e.daddr === lab.ipB),
      'echo request at ingress and reply at egress',
    );
    assert.equal(ingress.state(), 'present');
  } finally {
    ingress.detach();
    egress.detach();
  }
  assert.deepEqual(tcxPrograms(hook('ingress')), []);
  assert.deepEqual(tcxPrograms(hook('egress')), []);
  assert.equal(ingress.state(), 'detached');
});

test('state(): missing once the link is detached behind our back (bpftool link detach)', () => {
  const link = probe.attachTc('probe_ingress', { ...hook('ingress'), kind: 'tcx' });
  execFileSync('bpftool', ['link', 'detach', 'id', String(link.linkId)]);
  assert.equal(link.state(), 'missing');
  assert.deepEqual(tcxPrograms(hook('ingress')), []);
  link.detach();
  assert.equal(link.state(), 'detached');
});

test('a pinned link outlives its object and the next attach takes it over: the hook never goes empty', () => {
  const pin = `${PIN_DIR}/${lab.ifA}-ingress`;
  const first = BpfObject.load(PROBE_OBJECT);
  const firstLink = first.attachTc('probe_ingress', { ...hook('ingress'), kind: 'tcx', pin });
  const firstId = firstLink.programId;
  assert.ok(existsSync(pin));
  // a killed agent: its fds close, its pin stays (what close() would undo is skipped here by
  // taking the link over before the old object goes)
  const second = BpfObject.load(PROBE_OBJECT);
  const secondLink = second.attachTc('probe_egress', { ...hook('ingress'), kind: 'tcx', pin });
  const secondId = secondLink.programId;
  assert.equal(secondLink.takenOver, true);
  assert.equal(secondLink.linkId, firstLink.linkId, 'the same link, now running the new program');
  assert.deepEqual(tcxPrograms(hook('ingress')), [secondId]);
  assert.equal(firstLink.state(), 'missing', 'the link runs another program now');
  first.close(); // not ours any more: the link stays
  assert.deepEqual(tcxPrograms(hook('ingress')), [secondId]);
  assert.ok(existsSync(pin));
  assert.notEqual(firstId, secondId);
  second.close();
  assert.deepEqual(tcxPrograms(hook('ingress')), []);
  assert.ok(!existsSync(pin), 'detach removes the pin');
});

test('a pin left for an interface that went away is replaced, and detachPinnedTcx removes a left one', () => {
  const name = `wst5x${process.pid % 10000}`;
  const pin = `${PIN_DIR}/${name}-egress`;
  const options = { ifname: name, direction: 'egress', netns: lab.nsA, kind: 'tcx', pin } as const;
  const object = BpfObject.load(PROBE_OBJECT);
  lab.run(lab.nsA, 'ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  const old = object.attachTc('probe_egress', options);
  lab.run(lab.nsA, 'ip', ['link', 'del', name]);
  assert.equal(old.state(), 'no-interface');
  lab.run(lab.nsA, 'ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  const fresh = object.attachTc('probe_egress', options);
  assert.equal(fresh.takenOver, false);
  assert.notEqual(fresh.linkId, old.linkId);
  assert.equal(fresh.state(), 'present');
  assert.equal(tcxPrograms({ ifname: name, direction: 'egress', netns: lab.nsA }).length, 1);
  // what an agent finds on start for an endpoint that is gone: detached and unpinned
  assert.equal(detachPinnedTcx(pin), true);
  assert.equal(fresh.state(), 'missing');
  assert.equal(detachPinnedTcx(pin), false);
  assert.equal(tcxPrograms({ ifname: name, direction: 'egress', netns: lab.nsA }).length, 0);
  object.close();
  lab.run(lab.nsA, 'ip', ['link', 'del', name]);
});

test('a filter of the same program is deleted once the TCX link runs', () => {
  const filter = probe.attachTc('probe_ingress', { ...hook('ingress'), priority: 3, handle: 3 });
  assert.match(lab.tcFilters(lab.nsA, lab.ifA), /pref 3 bpf chain 0 handle 0x3 probe_ingress/);
  const link = probe.attachTc('probe_ingress', { ...hook('ingress'), kind: 'tcx', priority: 3, handle: 3 });
  assert.doesNotMatch(lab.tcFilters(lab.nsA, lab.ifA), /pref 3 /);
  assert.equal(filter.state(), 'missing');
  assert.equal(tcxPrograms(hook('ingress')).length, 1);
  filter.detach();
  link.detach();
});

test('bad options get a clear error', () => {
  assert.throws(() => probe.attachTc('probe_ingress', { ...hook('ingress'), pin: '/sys/fs/bpf/x' }), {
    code: 'ERR_INVALID_ARG',
    message: /pin needs kind: tcx/,
  });
  assert.throws(() => probe.attachTc('probe_ingress', { ...hook('ingress'), kind: 'tcx', pin: 'relative' }), {
    code: 'ERR_INVALID_ARG',
    message: /absolute path/,
  });
  assert.throws(
    () => probe.attachTc('probe_ingress', { ...hook('ingress'), kind: 'xdp' as 'tcx' }),
    /kind must be 'filter' or 'tcx'/,
  );
  assert.throws(() => tcxPrograms({ ifname: 'nonexistent0', direction: 'ingress', netns: lab.nsA }), {
    code: 'ENODEV',
  });
  assert.throws(() => detachPinnedTcx('relative'), { code: 'ERR_INVALID_ARG' });
  assert.equal(liveResources().tcLinks, 0);
});
