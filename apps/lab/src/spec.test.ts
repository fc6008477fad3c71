import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SPEC } from './programs.js';
import { loadSpec, parseSpec, SpecError } from './spec.js';

const good = `nodes:
  - name: n1
    podCIDR: 10.244.1.0/24
  - name: n2
    podCIDR: 10.244.2.0/24
pods:
  - name: a
    namespace: x
    node: n1
    labels: { app: a }
    workload: { kind: http-server, port: 8080 }
  - name: b
    namespace: x
    node: n2
    ip: 10.244.2.77
    workload: { kind: http-client, target: "http://a.x:8080/" }
`;

function problems(text: string): string[] {
  try {
    parseSpec(text, 'spec.yaml');
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err.problems;
  }
  assert.fail('spec was accepted');
}

test('the shipped default spec is valid and has the required scenario', () => {
  const spec = loadSpec(DEFAULT_SPEC);
  assert.equal(spec.nodes.length, 3);
  assert.ok(spec.pods.length >= 8);
  assert.ok(new Set(spec.pods.map((p) => p.namespace)).size >= 2);
  const kinds = new Set(spec.pods.map((p) => p.workload.kind));
  for (const kind of ['http-server', 'http-client', 'dns-server', 'udp-sender'])
    assert.ok(kinds.has(kind as never), kind);
});

test('a valid spec gets defaults: node addresses, pod IPs from .10, namespace default', () => {
  const spec = parseSpec(good, 'spec.yaml');
  assert.deepEqual(
    spec.nodes.map((n) => n.address),
    ['10.77.0.11', '10.77.0.12'],
  );
  assert.equal(spec.pods[0]?.ip, '10.244.1.10');
  assert.equal(spec.pods[1]?.ip, '10.244.2.77');
  assert.deepEqual(spec.pods[1]?.workload, {
    kind: 'http-client',
    target: 'http://a.x:8080/',
    intervalMs: 1000,
  });
});

test('unknown field: file, line and field are named', () => {
  const text = good.replace('    labels: { app: a }', '    labels: { app: a }\n    replicas: 3');
  assert.deepEqual(problems(text), [
    'spec.yaml:11: pods[0].replicas: unknown field; accepted: name, namespace, node, ip, labels, workload',
  ]);
  assert.match(
    problems(`${good}extra: 1\n`)[0] ?? '',
    /^spec\.yaml:17: extra: unknown field; accepted: nodes, pods, policies$/,
  );
  assert.match(
    problems(good.replace('port: 8080 }', 'port: 8080, tls: true }'))[0] ?? '',
    /^spec\.yaml:11: pods\[0\]\.workload\.tls: unknown field for kind http-server/,
  );
});

test('duplicate pod names the second occurrence and the first', () => {
  const text = good.replace('  - name: b\n    namespace: x', '  - name: a\n    namespace: x');
  assert.deepEqual(problems(text), [
    'spec.yaml:12: pods[1].name: duplicate pod "x/a" (first at pods[0], line 7)',
  ]);
});

test('pod CIDR overlap between nodes and with the underlay is rejected', () => {
  assert.deepEqual(
    problems(good.replace('10.244.2.0/24', '10.244.0.0/16').replace('ip: 10.244.2.77', 'ip: 10.244.9.9')),
    ['spec.yaml:5: nodes[1].podCIDR: 10.244.0.0/16 overlaps nodes[0].podCIDR 10.244.1.0/24 (node n1)'],
  );
  assert.match(
    problems(good.replace('10.244.1.0/24', '10.77.0.0/25'))[0] ?? '',
    /^spec\.yaml:3: nodes\[0\]\.podCIDR: 10\.77\.0\.0\/25 overlaps the underlay/,
  );
});

test('a pod on a missing node is rejected with the accepted node names', () => {
  assert.deepEqual(problems(good.replace('node: n2', 'node: n9')), [
    'spec.yaml:14: pods[1].node: unknown node "n9"; accepted: n1, n2',
  ]);
});

test('several problems are all reported at once; bad values say what is accepted', () => {
  const text = good
    .replace('name: n2', 'name: Node-Two')
    .replace('ip: 10.244.2.77', 'ip: 10.244.5.1')
    .replace('kind: http-server', 'kind: grpc-server');
  const list = problems(text);
  assert.ok(
    list.some((p) =>
      /^spec\.yaml:4: nodes\[1\]\.name: "Node-Two" is not a valid node name; accepted:/.test(p),
    ),
    list.join('\n'),
  );
  assert.ok(
    list.some((p) =>
      /^spec\.yaml:11: pods\[0\]\.workload\.kind: "grpc-server" is not a workload kind; accepted: none, http-server/.test(
        p,
      ),
    ),
    list.join('\n'),
  );
});

test('pod IP outside its node CIDR, and duplicate keys in YAML, are rejected', () => {
  assert.match(
    problems(good.replace('ip: 10.244.2.77', 'ip: 10.244.1.77'))[0] ?? '',
    /^spec\.yaml:15: pods\[1\]\.ip: "10\.244\.1\.77" is not usable; accepted: a host address inside node n2's pod CIDR 10\.244\.2\.0\/24$/,
  );
  assert.match(
    problems(
      good.replace('    podCIDR: 10.244.1.0/24', '    podCIDR: 10.244.1.0/24\n    podCIDR: 10.244.3.0/24'),
    )[0] ?? '',
    /^spec\.yaml:4: \(document\): not valid YAML: Map keys must be unique/,
  );
});

test('an unreadable spec file is reported by name', () => {
  assert.throws(
    () => loadSpec('/nonexistent/wsl-spec.yaml'),
    /\/nonexistent\/wsl-spec\.yaml: cannot read the spec/,
  );
});

const twoNodes = (a: string, b: string, extra = ''): string =>
  `nodes:\n  - name: ${a}\n    podCIDR: 10.244.1.0/24\n  - name: ${b}\n    podCIDR: 10.244.2.0/24\n${extra}`;

test('node names are Kubernetes node names: any DNS-1123 subdomain up to 253 characters', () => {
  const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
  for (const [a, b] of [
    ['worker-1', 'worker-10'],
    ['ip-10-0-1-12.ec2.internal', 'ip-10-0-1-13.ec2.internal'],
    ['kind-worker2', long],
    ['0-a', 'n-2'],
  ] as const) {
    const spec = parseSpec(twoNodes(a, b, `pods:\n  - name: p\n    node: ${b}\n`), 'spec.yaml');
    assert.deepEqual(
      spec.nodes.map((n) => n.name),
      [a, b],
    );
    assert.equal(spec.pods[0]?.node, b);
  }
  for (const bad of ['Worker-1', '-a', 'a-', 'a..b', 'a_b', `${'a'.repeat(64)}`, `${long}x`]) {
    const found = problems(twoNodes('ok', bad));
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(
      found[0] ?? '',
      /^spec\.yaml:4: nodes\[1\]\.name: ".*" is not a valid node name; accepted: a DNS-1123 subdomain/,
    );
  }
});

test('a node name whose derived names are already taken is refused before anything is made', () => {
  assert.deepEqual(problems(twoNodes('n1', 'cp')), [
    "spec.yaml:4: nodes[1].name: its network namespace wsl-cp is already the control plane's; rename it",
    "spec.yaml:4: nodes[1].name: its fabric port fab-cp is already the control plane's; rename it",
  ]);
  assert.match(
    problems(twoNodes('wor-bf95', 'worker-10'))[0] ?? '',
    /^spec\.yaml:4: nodes\[1\]\.name: its WireGuard interface wsl-wg-wor-bf95 is already node wor-bf95's/,
  );
});

test('a YAML alias bomb is an invalid spec, not a crash', () => {
  const levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(', ')}]`,
    );
  }
  const found = problems(`${levels.join('\n')}\nnodes: *i\n`);
  assert.equal(found.length, 1);
  assert.match(
    found[0] ?? '',
    /^spec\.yaml:1: \(document\): not usable: Excessive alias count.*; accepted: at most 100 alias expansions$/,
  );
  // a few aliases, as people use them for shared labels, stay fine
  const shared = parseSpec(
    `${twoNodes('n1', 'n2')}pods:\n  - { name: a, node: n1, labels: &l { app: x } }\n  - { name: b, node: n2, labels: *l }\n`,
    'spec.yaml',
  );
  assert.deepEqual(shared.pods[1]?.labels, { app: 'x' });
});

test('policies: files relative to the spec are parsed at load; a bad one fails the spec with its file:line', async () => {
  const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = mkdtempSync('/tmp/wirescope-spec-policies-');
  mkdirSync(join(dir, 'policies'));
  const policy = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p1, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress: [{}]
`;
  writeFileSync(join(dir, 'policies', 'a.yaml'), policy);
  const spec = 'policies: [policies]\nnodes:\n  - name: node1\n    podCIDR: 10.244.1.0/24\n';
  const parsed = parseSpec(spec, join(dir, 'spec.yaml'));
  assert.deepEqual(
    parsed.policies.map((p) => [p.kind, p.namespace, p.name, p.file]),
    [['CiliumNetworkPolicy', 'shop', 'p1', join(dir, 'policies', 'a.yaml')]],
  );
  writeFileSync(
    join(dir, 'policies', 'b.yaml'),
    policy.replace('p1', 'p2').replace('ingress: [{}]', 'ingress: [{toFQDNs: []}]'),
  );
  assert.throws(
    () => parseSpec(spec, join(dir, 'spec.yaml')),
    (err: Error) =>
      err instanceof SpecError && /b\.yaml:6: spec\.ingress\[0\]\.toFQDNs: unknown field/.test(err.message),
  );
});
