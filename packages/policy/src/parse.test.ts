import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicies } from './parse.js';
import { PolicyError, PolicyErrorCode } from './errors.js';
import { EMPIRE_DEFAULT_DENY, EXTERNAL_LOCKDOWN, RULE1 } from './testdata.js';

function problemsOf(text: string, file = 'p.yaml') {
  try {
    parsePolicies(text, file);
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err.problems;
  }
  assert.fail('expected a PolicyError');
}

test("Cilium's documentation examples are accepted unchanged", () => {
  const [rule1] = parsePolicies(RULE1, 'rule1.yaml');
  assert.equal(rule1?.kind, 'CiliumNetworkPolicy');
  assert.equal(rule1?.name, 'rule1');
  assert.equal(rule1?.namespace, 'default');
  const rule = rule1!.rules[0]!;
  assert.deepEqual(rule.ingress?.[0]?.ports, [{ port: 80, endPort: 0, protocol: 'TCP' }]);
  assert.equal(rule.description, 'L3-L4 policy to restrict deathstar access to empire ships only');
  // namespace scoping: both the endpoint selector and the peer get the policy's namespace
  for (const s of [rule.endpointSelector, rule.ingress![0]!.endpoints![0]!])
    assert.ok(
      s.requirements.some((q) => q.key.name === 'io.kubernetes.pod.namespace' && q.values[0] === 'default'),
    );
  const [deny] = parsePolicies(EMPIRE_DEFAULT_DENY, 'deny.yaml');
  assert.deepEqual(deny!.rules[0]!.ingress, [
    { endpoints: undefined, entities: undefined, ports: undefined },
  ]);
  assert.deepEqual(deny!.rules[0]!.enableDefaultDeny, { ingress: true, egress: false });
  const [ccnp] = parsePolicies(EXTERNAL_LOCKDOWN, 'ccnp.yaml');
  assert.equal(ccnp?.namespace, '');
  assert.deepEqual(ccnp!.rules[0]!.ingressDeny![0]!.entities, ['world']);
});

test('several documents in one file, each with its own text and line', () => {
  const policies = parsePolicies(`${RULE1}---\n${EMPIRE_DEFAULT_DENY}`, 'two.yaml');
  assert.deepEqual(
    policies.map((p) => [p.name, p.line]),
    [
      ['rule1', 1],
      ['empire-default-deny', 20],
    ],
  );
  assert.ok(policies[1]!.text.startsWith('apiVersion: "cilium.io/v2"\nkind: CiliumNetworkPolicy'));
  assert.ok(!policies[0]!.text.includes('empire-default-deny'));
});

test('an unimplemented Cilium field is refused with file:line and its path, and the file is refused whole', () => {
  const text = `${RULE1}---\n${RULE1.replace('rule1', 'rule2').replace('  - fromEndpoints:', '  - fromCIDR: ["10.0.0.0/8"]\n    fromEndpoints:')}`;
  const problems = problemsOf(text, 'policies/two.yaml');
  assert.equal(problems.length, 1);
  assert.deepEqual(
    { ...problems[0], message: undefined },
    {
      code: PolicyErrorCode.NOT_IMPLEMENTED,
      file: 'policies/two.yaml',
      line: 31,
      field: 'spec.ingress[0].fromCIDR',
      message: undefined,
    },
  );
  assert.match(
    new PolicyError(problems).message,
    /^policies\/two\.yaml:31: spec\.ingress\[0\]\.fromCIDR: not implemented by Wirescope/,
  );
});

test('L7 rules, named ports, unknown fields, bad values: each named with its line', () => {
  const l7 = RULE1.replace(
    '        protocol: TCP\n',
    '        protocol: TCP\n      rules:\n        http:\n        - method: GET\n',
  );
  assert.deepEqual(
    problemsOf(l7).map((p) => [p.line, p.field, p.code]),
    [[19, 'spec.ingress[0].toPorts[0].rules', PolicyErrorCode.NOT_IMPLEMENTED]],
  );
  const named = RULE1.replace('port: "80"', 'port: http');
  assert.deepEqual(
    problemsOf(named).map((p) => [p.line, p.field]),
    [[17, 'spec.ingress[0].toPorts[0].ports[0].port']],
  );
  const typo = RULE1.replace('  ingress:', '  ingres:');
  const p = problemsOf(typo);
  assert.deepEqual(
    p.map((x) => [x.line, x.field, x.code]),
    [
      [11, 'spec.ingres', PolicyErrorCode.UNKNOWN_FIELD],
      [6, 'spec', PolicyErrorCode.INVALID_VALUE], // and then the rule has no section at all
    ],
  );
  const range = RULE1.replace('port: "80"', 'port: "8080"\n        endPort: 80');
  assert.match(problemsOf(range)[0]!.message, /endPort 80 must be a number from port \(8080\)/);
  const op = RULE1.replace(
    '    matchLabels:\n      org: empire\n      class: deathstar',
    '    matchExpressions:\n    - {key: org, operator: Is, values: [empire]}',
  );
  assert.match(problemsOf(op)[0]!.message, /"Is" is no operator; accepted: In, NotIn, Exists, DoesNotExist/);
  assert.equal(problemsOf('kind: [').at(0)?.code, PolicyErrorCode.INVALID_DOCUMENT);
  assert.match(
    problemsOf(RULE1.replace('cilium.io/v2', 'networking.k8s.io/v1'))[0]!.message,
    /accepted: cilium.io\/v2/,
  );
});

test('enableDefaultDeny: explicit false, and the ingressDeny-only trap', () => {
  const onlyDeny = EXTERNAL_LOCKDOWN.replace('  ingress:\n  - fromEntities:\n    - "all"\n', '');
  assert.deepEqual(parsePolicies(onlyDeny, 'x')[0]!.rules[0]!.enableDefaultDeny, {
    ingress: true,
    egress: false,
  });
  const off = onlyDeny.replace('spec:\n', 'spec:\n  enableDefaultDeny:\n    ingress: false\n');
  assert.deepEqual(parsePolicies(off, 'x')[0]!.rules[0]!.enableDefaultDeny, {
    ingress: false,
    egress: false,
  });
});

test('the encryption annotation is read; other values refused', () => {
  const enc = RULE1.replace(
    '  name: "rule1"\n',
    '  name: "rule1"\n  annotations:\n    wirescope.io/require-encryption: "true"\n',
  );
  assert.equal(parsePolicies(enc, 'x')[0]!.requireEncryption, true);
  assert.match(problemsOf(enc.replace('"true"', 'yes'))[0]!.message, /accepted: "true", "false"/);
});
