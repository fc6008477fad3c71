import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBinary } from '@bufbuild/protobuf';
import { DropReason, FlowFilterExtensionSchema, Mechanism, Verdict, type FlowFilter } from '@wirescope/flow';
import { UsageError } from '../command.js';
import { parseObserveArgs, parseTime } from './flags.js';
import { parseDuration } from './connect.js';
import { parseSimpleArgs } from './simple.js';

const now = Date.UTC(2026, 10, 21, 12, 0, 0);

test('defaults: the last 20 flows from localhost:4245 in compact form', () => {
  const o = parseObserveArgs([], now);
  assert.equal(o.request.number, 20n);
  assert.equal(o.request.follow, false);
  assert.equal(o.format, 'compact');
  assert.equal(o.connect.server, 'localhost:4245');
  assert.deepEqual(o.request.whitelist, []);
});

test('--follow alone asks for new flows only; --last with --follow keeps N', () => {
  assert.equal(parseObserveArgs(['-f'], now).request.number, 0n);
  const o = parseObserveArgs(['--last', '5', '--follow'], now);
  assert.equal(o.request.number, 5n);
  assert.equal(o.request.follow, true);
  assert.equal(parseObserveArgs(['--all'], now).request.number, 0n);
  const first = parseObserveArgs(['--first', '3'], now).request;
  assert.equal(first.first, true);
  assert.equal(first.number, 3n);
});

test('filter flags AND into one filter; either-direction flags make two ORed filters', () => {
  const one = parseObserveArgs(
    ['--from-pod', 'default/client-', '--to-pod', 'server-', '--verdict', 'FORWARDED', '--encrypted'],
    now,
  ).request;
  assert.equal(one.whitelist.length, 1);
  assert.deepEqual(one.whitelist[0]!.sourcePod, ['default/client-']);
  assert.deepEqual(one.whitelist[0]!.destinationPod, ['default/server-'], 'namespace defaults to "default"');
  assert.deepEqual(one.whitelist[0]!.verdict, [Verdict.FORWARDED]);
  assert.deepEqual(one.whitelist[0]!.encrypted, [true]);
  const two = parseObserveArgs(['--pod', 'kube-system/coredns', '--protocol', 'udp'], now).request;
  assert.equal(two.whitelist.length, 2);
  assert.deepEqual(two.whitelist[0]!.sourcePod, ['kube-system/coredns']);
  assert.deepEqual(two.whitelist[1]!.destinationPod, ['kube-system/coredns']);
  assert.deepEqual(
    two.whitelist.map((f) => f.protocol),
    [['udp'], ['udp']],
  );
  const ns = parseObserveArgs(['-n', 'monitoring'], now).request;
  assert.deepEqual(
    ns.whitelist.map((f) => [f.sourcePod, f.destinationPod]),
    [
      [['monitoring/'], []],
      [[], ['monitoring/']],
    ],
  );
});

test('--not sends only the next filter flag to the blacklist', () => {
  const r = parseObserveArgs(
    ['--from-namespace', 'default', '--not', '--drop-reason-desc', 'POLICY_DENIED', '--unencrypted'],
    now,
  ).request;
  assert.deepEqual(r.blacklist.length, 1);
  assert.deepEqual(r.blacklist[0]!.dropReasonDesc, [DropReason.POLICY_DENIED]);
  assert.deepEqual(r.blacklist[0]!.encrypted, []);
  assert.deepEqual(r.whitelist[0]!.encrypted, [false]);
  assert.deepEqual(r.whitelist[0]!.sourcePod, ['default/']);
});

test('times: relative and RFC3339 for --since/--until', () => {
  const r = parseObserveArgs(['--since', '5m', '--until', '2026-11-21T11:59:00Z'], now).request;
  assert.equal(Number(r.since!.seconds), (now - 5 * 60_000) / 1000);
  assert.equal(Number(r.until!.seconds), Date.UTC(2026, 10, 21, 11, 59) / 1000);
  assert.equal(r.number, 0n, 'a time window replaces the default --last 20');
  assert.equal(parseTime('--since', '1h30m', now), now - 90 * 60_000);
  assert.equal(parseDuration('1h30m10s', 'x'), 5_410_000);
});

test('type, tcp flags, ip version, identity, mechanism and peer', () => {
  const o = parseObserveArgs(
    [
      '--type',
      'trace:to-crypto',
      '--tcp-flags',
      'SYN,ACK',
      '--ip-version',
      'v6',
      '--to-identity',
      '2',
      '--mechanism',
      'wireguard',
      '--peer',
      'wst-node-2',
      '-o',
      'jsonpb',
      '--print-node-name',
    ],
    now,
  );
  const f = o.request.whitelist[0]!;
  assert.deepEqual(
    [f.eventType[0]!.type, f.eventType[0]!.matchSubType, f.eventType[0]!.subType],
    [4, true, 13],
  );
  assert.equal(f.tcpFlags[0]!.SYN && f.tcpFlags[0]!.ACK, true);
  assert.deepEqual(f.ipVersion, [2]);
  assert.deepEqual(f.destinationIdentity, [2]);
  assert.deepEqual(unpackWirescope(f), { peerNode: ['wst-node-2'], mechanism: [Mechanism.WIREGUARD] });
  assert.equal(o.format, 'jsonpb');
  assert.equal(o.nodeName, true);
});

/** The Wirescope filter fields a FlowFilter carries in its extensions. */
function unpackWirescope(f: FlowFilter) {
  if (!f.extensions) return undefined;
  assert.equal(f.extensions.typeUrl, 'type.googleapis.com/wirescope.v1.FlowFilterExtension');
  const e = fromBinary(FlowFilterExtensionSchema, f.extensions.value);
  return { peerNode: e.peerNode, mechanism: e.mechanism };
}

test('--peer and --mechanism are server-side filter flags: ANDed into every filter, repeatable, negatable', () => {
  // two-sided --pod: both ORed filters carry the peer, so --last counts flows matching both
  const two = parseObserveArgs(['--pod', 'default/client-', '--peer', 'n2'], now).request.whitelist;
  assert.equal(two.length, 2);
  assert.deepEqual(two.map(unpackWirescope), [
    { peerNode: ['n2'], mechanism: [] },
    { peerNode: ['n2'], mechanism: [] },
  ]);
  assert.deepEqual(two[0]!.sourcePod, ['default/client-']);
  const ored = parseObserveArgs(['--peer', 'n2', '--peer', 'n3', '--mechanism', 'none'], now).request;
  assert.deepEqual(ored.whitelist.map(unpackWirescope), [
    { peerNode: ['n2', 'n3'], mechanism: [Mechanism.NONE] },
  ]);
  const negated = parseObserveArgs(['--encrypted', '--not', '--peer', 'n2'], now).request;
  assert.equal(negated.whitelist[0]!.extensions, undefined, 'a filter without Wirescope fields sends none');
  assert.deepEqual(negated.blacklist.map(unpackWirescope), [{ peerNode: ['n2'], mechanism: [] }]);
  assert.throws(() => parseObserveArgs(['--peer', ''], now), /^UsageError: --peer needs a node name$/);
});

test('bad flags and values: one line naming what is wrong and what is accepted', () => {
  const bad: [string[], RegExp][] = [
    [['--bogus'], /^unknown flag --bogus/],
    [['-o', 'yaml'], /^-o "yaml" is unknown; accepted: compact, json, jsonpb, dict, table$/],
    [['--verdict', 'ALLOWED'], /^--verdict "ALLOWED" is unknown; accepted: FORWARDED, DROPPED/],
    [['--since', 'yesterday'], /^--since "yesterday" is not a relative time/],
    [['--last', 'ten'], /^--last "ten" is not a number/],
    [['--first', '2', '--follow'], /^--first cannot be combined with --follow/],
    [['--not'], /^--not must be followed by a filter flag/],
    [['--type', 'trace:nowhere'], /unknown sub-type "nowhere"/],
    [['--mechanism', 'ipsec'], /^--mechanism "ipsec" is unknown; accepted: none, wireguard$/],
    [['--server', 'no port'], /^--server "no port" is not host:port or unix:\/\/\/path/],
    [['--tcp-flags', 'SYN,FOO'], /^--tcp-flags "FOO" is unknown/],
    [['--pod'], /^--pod needs a value$/],
  ];
  for (const [args, re] of bad) {
    assert.throws(
      () => parseObserveArgs(args, now),
      (err: unknown) => err instanceof UsageError && re.test(err.message) && !err.message.includes('\n'),
      args.join(' '),
    );
  }
});

test('--timeout must be a duration longer than 0: "0s" is refused as a usage error (rc 2), not tried', () => {
  for (const bad of ['0s', '0', '0ms', '0h0m']) {
    assert.throws(
      () => parseObserveArgs(['--timeout', bad], now),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message === `--timeout "${bad}" must be longer than 0 (accepted e.g. 500ms, 5s, 1m)`,
      bad,
    );
  }
  assert.throws(() => parseObserveArgs(['--timeout', '-1s'], now), /--timeout "-1s" is not a duration/);
  assert.equal(parseObserveArgs(['--timeout', '1ms'], now).connect.timeoutMs, 1);
  assert.equal(parseObserveArgs(['--timeout', '1m30s'], now).connect.timeoutMs, 90_000);
  assert.throws(() => parseSimpleArgs(['--timeout', '0s'], 'usage'), /--timeout "0s" must be longer than 0/);
});

test('a single-valued flag given twice is refused naming the flag; filter flags still repeat (ORed)', () => {
  const refused: [string[], string][] = [
    [['--server', 'a:1', '--server', 'b:2'], '--server given 2 times ("a:1", "b:2"); it takes one value'],
    [['--last', '5', '--last', '7'], '--last given 2 times ("5", "7"); it takes one value'],
    [['-o', 'json', '--output', 'dict'], '--output/-o given 2 times ("json", "dict"); it takes one value'],
    [['--timeout', '1s', '--timeout=2s'], '--timeout given 2 times ("1s", "2s"); it takes one value'],
    [['--since', '5m', '--since', '1m'], '--since given 2 times ("5m", "1m"); it takes one value'],
  ];
  for (const [args, message] of refused)
    assert.throws(
      () => parseObserveArgs(args, now),
      (err: unknown) => err instanceof UsageError && err.message === message,
      args.join(' '),
    );
  const repeated = parseObserveArgs(
    ['--node-name', 'node1', '--node-name', 'node2', '--verdict', 'DROPPED', '--verdict', 'FORWARDED'],
    now,
  );
  assert.deepEqual(repeated.request.whitelist[0]!.nodeName, ['node1', 'node2']);
  assert.deepEqual(repeated.request.whitelist[0]!.verdict, [Verdict.DROPPED, Verdict.FORWARDED]);
  // --peer and --mechanism are filter flags too (server-side since issue 10), so they repeat
  assert.deepEqual(
    unpackWirescope(parseObserveArgs(['--peer', 'node2', '--peer', 'node3'], now).request.whitelist[0]!)
      ?.peerNode,
    ['node2', 'node3'],
  );
  assert.deepEqual(
    parseObserveArgs(['--field-mask', 'time,verdict', '--field-mask', 'IP'], now).request.fieldMask?.paths,
    ['time', 'verdict', 'IP'],
  );
  assert.throws(
    () => parseSimpleArgs(['--server', 'a:1', '--server', 'b:2'], 'usage'),
    /^UsageError: --server given 2 times \("a:1", "b:2"\); it takes one value$/,
  );
  assert.throws(
    () => parseSimpleArgs(['--peer', 'x', '--peer', 'y'], 'usage', ['--peer']),
    /--peer given 2 times/,
  );
});
