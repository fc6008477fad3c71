import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicies } from './parse.js';
import { compileEndpoint, portPrefixes, type IdentityInfo, type StoredPolicyLike } from './compile.js';
import { DropReason, MatchType, PolicyLookup } from './lookup.js';
import { podIdentityLabels, selects } from './selector.js';
import { policyKey } from './map-entries.js';
import { EMPIRE_DEFAULT_DENY, EXTERNAL_LOCKDOWN, RULE1 } from './testdata.js';

const TCP = 6;
const UDP = 17;
const id = (n: number, ns: string, labels: Record<string, string>): IdentityInfo => ({
  id: n,
  labels: podIdentityLabels(ns, labels),
});
const DEATHSTAR = id(300, 'default', { org: 'empire', class: 'deathstar' });
const TIEFIGHTER = id(301, 'default', { org: 'empire', class: 'tiefighter' });
const XWING = id(302, 'default', { org: 'alliance', class: 'xwing' });
const OTHER_NS_EMPIRE = id(303, 'other', { org: 'empire', class: 'tiefighter' });
const IDENTITIES = [DEATHSTAR, TIEFIGHTER, XWING, OTHER_NS_EMPIRE];

const stored = (...texts: string[]): StoredPolicyLike[] =>
  texts.flatMap((t, i) => parsePolicies(t, `p${i}.yaml`)).map((p, i) => ({ ...p, revision: i + 1 }));

function lookupFor(endpoint: IdentityInfo, ...texts: string[]): PolicyLookup {
  return new PolicyLookup(compileEndpoint(endpoint.labels, stored(...texts), IDENTITIES));
}

test('selectors: matchLabels, expressions, label sources, namespace scoping', () => {
  const [p] = stored(
    RULE1.replace('      org: empire\n      class: deathstar', '      k8s:class: deathstar').replace(
      '    - matchLabels:\n        org: empire',
      '    - matchExpressions:\n      - {key: class, operator: NotIn, values: [xwing]}\n      - {key: org, operator: Exists}',
    ),
  );
  const rule = p!.rules[0]!;
  assert.ok(selects(rule.endpointSelector, DEATHSTAR.labels));
  assert.ok(!selects(rule.endpointSelector, TIEFIGHTER.labels));
  const peer = rule.ingress![0]!.endpoints![0]!;
  assert.ok(selects(peer, TIEFIGHTER.labels));
  assert.ok(!selects(peer, XWING.labels), 'NotIn');
  assert.ok(!selects(peer, OTHER_NS_EMPIRE.labels), "a CNP's peers are in its namespace");
  assert.ok(
    !selects(
      { requirements: [{ key: { source: 'reserved', name: 'class' }, operator: 'Exists', values: [] }] },
      DEATHSTAR.labels,
    ),
  );
});

test('rule1: L3-L4 allow for empire on 80/TCP, default deny for the rest', () => {
  const l = lookupFor(DEATHSTAR, RULE1);
  const allowed = l.verdict('ingress', TIEFIGHTER.id, TCP, 80);
  assert.equal(allowed.allowed, true);
  assert.equal(allowed.matchType, MatchType.L3_L4);
  assert.deepEqual(
    allowed.entry?.policies.map((p) => p.name),
    ['rule1'],
  );
  const xwing = l.verdict('ingress', XWING.id, TCP, 80);
  assert.deepEqual(
    [xwing.allowed, xwing.matchType, xwing.dropReason],
    [false, MatchType.NONE, DropReason.POLICY_DENIED],
  );
  assert.equal(l.verdict('ingress', TIEFIGHTER.id, TCP, 81).allowed, false);
  assert.equal(l.verdict('ingress', OTHER_NS_EMPIRE.id, TCP, 80).allowed, false);
  assert.equal(l.verdict('ingress', 1, TCP, 80).allowed, true, 'the local host reaches its endpoints');
  // egress has no rule: not looked up, not reported
  assert.deepEqual(l.verdict('egress', XWING.id, TCP, 80), {
    allowed: true,
    active: false,
    enforced: false,
    matchType: 0,
    dropReason: 0,
    entry: undefined,
  });
  assert.equal(l.compiled.ingress.enforced, true);
  assert.deepEqual(
    l.compiled.ingress.enforcedBy.map((p) => p.name),
    ['rule1'],
  );
});

test('empire-default-deny: ingress [{}] allows nothing; the union with rule1 allows what rule1 allows', () => {
  const deny = lookupFor(TIEFIGHTER, EMPIRE_DEFAULT_DENY);
  assert.equal(deny.verdict('ingress', DEATHSTAR.id, TCP, 80).allowed, false);
  const both = lookupFor(DEATHSTAR, EMPIRE_DEFAULT_DENY, RULE1);
  assert.equal(both.verdict('ingress', TIEFIGHTER.id, TCP, 80).allowed, true);
  assert.equal(both.verdict('ingress', XWING.id, TCP, 80).allowed, false);
});

test('precedence: deny wins over allow, also over a more specific allow of the same peer', () => {
  const allowAll = EXTERNAL_LOCKDOWN.replace(
    '  ingressDeny:\n  - fromEntities:\n    - "world"\n',
    '',
  ).replace('external-lockdown', 'allow-all');
  const denyTcp = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: no-xwing-tcp, namespace: default}
spec:
  endpointSelector: {matchLabels: {class: deathstar}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {class: xwing}}]
    toPorts: [{ports: [{protocol: TCP}]}]
`;
  const l = lookupFor(
    DEATHSTAR,
    RULE1,
    allowAll,
    denyTcp,
    RULE1.replace('org: empire\n    toPorts', 'class: xwing\n    toPorts').replace('rule1', 'xwing-80'),
  );
  const v = l.verdict('ingress', XWING.id, TCP, 80);
  assert.deepEqual(
    [v.allowed, v.dropReason, v.entry?.policies.map((p) => p.name)],
    [false, DropReason.POLICY_DENY, ['no-xwing-tcp']],
  );
  assert.equal(l.verdict('ingress', XWING.id, UDP, 53).allowed, true, 'the deny covers TCP only');
  assert.equal(l.verdict('ingress', XWING.id, UDP, 53).matchType, MatchType.ALL);
  const world = lookupFor(DEATHSTAR, EXTERNAL_LOCKDOWN).verdict('ingress', 2, TCP, 443);
  assert.deepEqual([world.allowed, world.dropReason], [false, DropReason.POLICY_DENY]);
});

test('a deny-only policy with enableDefaultDeny false leaves the rest open', () => {
  const text = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db-deny-untrusted, namespace: default}
spec:
  endpointSelector: {matchLabels: {class: deathstar}}
  enableDefaultDeny: {ingress: false}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: other}}]
`;
  const l = lookupFor(DEATHSTAR, text);
  assert.equal(l.compiled.ingress.enforced, false);
  assert.equal(l.verdict('ingress', XWING.id, TCP, 80).allowed, true);
  const denied = l.verdict('ingress', OTHER_NS_EMPIRE.id, TCP, 80);
  assert.deepEqual([denied.allowed, denied.matchType, denied.dropReason], [false, MatchType.L3_ONLY, 181]);
});

test('port ranges become LPM prefixes; lookups match exactly the range', () => {
  assert.deepEqual(portPrefixes(8080, 8080), [{ port: 8080, bits: 16 }]);
  assert.deepEqual(portPrefixes(8000, 8015), [{ port: 8000, bits: 12 }]);
  assert.deepEqual(portPrefixes(0, 65535), [{ port: 0, bits: 0 }]);
  assert.deepEqual(portPrefixes(7, 10), [
    { port: 7, bits: 16 },
    { port: 8, bits: 15 },
    { port: 10, bits: 16 },
  ]);
  const l = lookupFor(DEATHSTAR, RULE1.replace('port: "80"', 'port: "1000"\n        endPort: 2000'));
  for (const [port, allowed] of [
    [999, false],
    [1000, true],
    [1500, true],
    [2000, true],
    [2001, false],
  ] as const)
    assert.equal(l.verdict('ingress', TIEFIGHTER.id, TCP, port).allowed, allowed, `port ${port}`);
  assert.equal(l.verdict('ingress', TIEFIGHTER.id, TCP, 1500).matchType, MatchType.L3_L4);
  const e = l.compiled.entries.find((x) => x.port === 1024 && x.portBits === 7)!;
  assert.ok(e, 'a /7 prefix for 1024..1535');
  assert.equal(policyKey(5, e).toString('hex'), '57000000' + '05000000' + '2c010000' + '00' + '06' + '0400');
});

test('L4-only and protocol-only rules', () => {
  const l4 = RULE1.replace(
    '  - fromEndpoints:\n    - matchLabels:\n        org: empire\n    toPorts:',
    '  - toPorts:',
  );
  const v = lookupFor(DEATHSTAR, l4).verdict('ingress', XWING.id, TCP, 80);
  assert.deepEqual([v.allowed, v.matchType], [true, MatchType.L4_ONLY]);
  const proto = RULE1.replace('      - port: "80"\n        protocol: TCP', '      - protocol: UDP');
  const p = lookupFor(DEATHSTAR, proto).verdict('ingress', TIEFIGHTER.id, UDP, 53);
  assert.deepEqual([p.allowed, p.matchType], [true, MatchType.L3_PROTO]);
});
