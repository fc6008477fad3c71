import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { bpfObject } from '@wirescope/bpf';
import {
  ENCRYPT_MARK,
  MARK_MAGIC_MASK,
  MarkSteering,
  WIREGUARD_RULE_PRIORITY,
  WIREGUARD_TABLE,
  parseMarkSteering,
} from './mark-steering.js';

test('the mark and mask equal lib/steering.h (enum ws_steering_mark in the BTF of abi.bpf.o)', () => {
  const json = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', bpfObject('abi'), 'format', 'raw'], {
    encoding: 'utf8',
  });
  const types = (
    JSON.parse(json) as { types: { kind: string; name: string; values?: { name: string; val: number }[] }[] }
  ).types;
  const e = types.find((t) => t.kind === 'ENUM' && t.name === 'ws_steering_mark');
  assert.ok(e, 'enum ws_steering_mark not in abi.bpf.o');
  const values = Object.fromEntries((e.values ?? []).map((v) => [v.name, v.val]));
  assert.deepEqual(values, { WS_MARK_ENCRYPT: ENCRYPT_MARK, WS_MARK_MAGIC_MASK: MARK_MAGIC_MASK });
});

test('parseMarkSteering reads `ip -j -batch` output: rule, device route, unreachable default', () => {
  const rules = JSON.stringify([
    { priority: 0, src: 'all', table: 'local' },
    { priority: 1, src: 'all', fwmark: '0xe00', fwmask: '0xf00', table: '201' },
    { priority: 32766, src: 'all', table: 'main' },
  ]);
  const routes = JSON.stringify([
    { dst: 'default', dev: 'wg0', protocol: 'static', scope: 'link', flags: [] },
    { type: 'unreachable', dst: 'default', protocol: 'static', metric: 4096, flags: [] },
  ]);
  assert.deepEqual(parseMarkSteering(`${rules}\n${routes}\n`, 'wg0'), {
    rule: true,
    route: true,
    unreachable: true,
  });
  // another device's route, a rule at another priority or mask, a table that does not exist yet
  assert.deepEqual(parseMarkSteering(`${rules}\n${routes}\n`, 'wg1'), {
    rule: true,
    route: false,
    unreachable: true,
  });
  const otherRule = JSON.stringify([{ priority: 5, fwmark: '0xe00', fwmask: '0xf00', table: '201' }]);
  assert.deepEqual(parseMarkSteering(`${otherRule}\n`, 'wg0'), {
    rule: false,
    route: false,
    unreachable: false,
  });
  assert.deepEqual(parseMarkSteering('', 'wg0'), { rule: false, route: false, unreachable: false });
});

function ip(...args: string[]): { code: number; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test('MarkSteering in a namespace of its own: sets up, steers marked packets only, repairs, refuses without the device', async (t) => {
  const ns = `wst-mark-${process.pid}`;
  assert.equal(ip('netns', 'add', ns).code, 0);
  t.after(() => ip('netns', 'del', ns));
  assert.equal(ip('-n', ns, 'link', 'add', 'wsmark0', 'type', 'veth', 'peer', 'name', 'wsmark1').code, 0);
  assert.equal(ip('-n', ns, 'link', 'set', 'wsmark0', 'up').code, 0);
  assert.equal(ip('-n', ns, 'link', 'set', 'wsmark1', 'up').code, 0);
  assert.equal(ip('-n', ns, 'link', 'set', 'lo', 'up').code, 0);
  const logs: string[] = [];
  const steering = new MarkSteering('wsmark0', (l) => logs.push(l), ns);

  assert.equal(steering.status(), undefined);
  await steering.ensure();
  assert.deepEqual(await steering.read(), { rule: true, route: true, unreachable: true });
  assert.equal(steering.status()?.repairs, 0);
  assert.equal(steering.status()?.table, WIREGUARD_TABLE);
  assert.match(
    ip('-n', ns, 'rule', 'show', 'pref', String(WIREGUARD_RULE_PRIORITY)).out,
    /fwmark 0xe00\/0xf00 lookup 201/,
  );
  // a marked packet (other mark bits kept) goes to the device; an unmarked one has no route here
  assert.match(ip('-n', ns, 'route', 'get', '10.244.9.9', 'mark', '0x1e01').out, /dev wsmark0/);
  assert.notEqual(ip('-n', ns, 'route', 'get', '10.244.9.9').code, 0);

  // a second call with everything in place changes nothing
  await steering.ensure();
  assert.equal(steering.status()?.repairs, 0);

  // something flushes the rule: put back, logged, counted
  assert.equal(ip('-n', ns, 'rule', 'del', 'pref', String(WIREGUARD_RULE_PRIORITY)).code, 0);
  await steering.ensure();
  assert.equal(steering.status()?.repairs, 1);
  assert.ok(
    logs.some((l) => /put back the encrypt-mark rule/.test(l)),
    logs.join('\n'),
  );

  // the device is gone: a marked packet is refused, never routed elsewhere
  assert.equal(ip('-n', ns, 'link', 'del', 'wsmark0').code, 0);
  assert.match(ip('-n', ns, 'route', 'get', '10.244.9.9', 'mark', '0xe00').out, /unreachable|No route/i);
  assert.deepEqual(await steering.read(), { rule: true, route: false, unreachable: true });
  // nothing to route to: the route cannot be put back, and the status says so
  await assert.rejects(steering.ensure());
  assert.equal(steering.status()?.route, false);
  assert.equal(steering.status()?.rule, true);
});
