import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentFlags } from './config.js';
import { requiredAgentFlags } from './required-flags.test.js';

const base = requiredAgentFlags;

test('valid flags give a config with the documented defaults', () => {
  const config = parseAgentFlags(base);
  assert.notEqual(config, 'help');
  if (config === 'help') return;
  assert.equal(config.nodeName, 'node1');
  assert.deepEqual(config.etcdEndpoints, ['http://10.77.0.254:2379']);
  assert.equal(config.wireguard.listenPort, 51871);
  assert.equal(config.wireguard.mtu, 1420);
  assert.equal(config.wireguard.mechanism, 'auto');
  assert.equal(config.apiSocket, '/var/lib/wirescope/agent/agent.sock');
});

test('each bad flag is rejected with a message naming it and what is accepted', () => {
  const cases: [string[], RegExp][] = [
    [base.slice(2), /--node-name is required/],
    [[...base, '--pod-cidr', '10.244.1.5/24'], /--pod-cidr "10.244.1.5\/24" is not valid; accepted:/],
    [[...base, '--underlay-ip', '10.77.0.300'], /--underlay-ip "10.77.0.300" is not valid/],
    [
      [...base, '--etcd-endpoints', 'etcd:2379'],
      /--etcd-endpoints entry "etcd:2379" is not valid; accepted: http:\/\/host:port/,
    ],
    [[...base, '--wg-port', '70000'], /--wg-port "70000" is not valid; accepted: an integer from 1 to 65535/],
    [[...base, '--wg-interface', 'this-name-is-too-long'], /--wg-interface .* 1 to 15/],
    [
      [...base, '--wg-mechanism', 'ipsec'],
      /--wg-mechanism "ipsec" is not valid; accepted: auto, kernel, wireguard-go/,
    ],
    [[...base, '--bogus', 'x'], /Unknown option '--bogus'.*accepted flags:/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseAgentFlags(argv),
      (err: Error) => err.name === 'AgentError' && message.test(err.message),
      message.source,
    );
  }
});

test('--help is recognised', () => {
  assert.equal(parseAgentFlags(['--help']), 'help');
});

test('--hubble-tls-* flags: cert and key together, a client CA only with them', () => {
  const config = parseAgentFlags([
    ...base,
    '--hubble-listen',
    '10.77.0.11:4244,unix:///run/x/hubble.sock',
    '--hubble-tls-cert',
    '/tls/a.crt',
    '--hubble-tls-key',
    '/tls/a.key',
    '--hubble-tls-client-ca',
    '/tls/ca.crt',
  ]);
  assert.notEqual(config, 'help');
  if (config === 'help') return;
  assert.deepEqual(config.datapath.hubbleTls, {
    cert: '/tls/a.crt',
    key: '/tls/a.key',
    clientCa: '/tls/ca.crt',
  });
  const plain = parseAgentFlags(base);
  assert.ok(plain !== 'help' && plain.datapath.hubbleTls === undefined, 'no TLS without the flags');
  assert.throws(
    () => parseAgentFlags([...base, '--hubble-tls-cert', '/tls/a.crt']),
    /--hubble-tls-cert and --hubble-tls-key go together/,
  );
  assert.throws(
    () => parseAgentFlags([...base, '--hubble-tls-client-ca', '/tls/ca.crt']),
    /--hubble-tls-client-ca needs --hubble-tls-cert/,
  );
});

test('--node-name takes any Kubernetes node name (a DNS-1123 subdomain) and refuses others', () => {
  for (const name of [
    'worker-1',
    'kind-worker2',
    'ip-10-0-1-12.ec2.internal',
    `${'a'.repeat(63)}.${'b'.repeat(63)}`,
  ]) {
    const config = parseAgentFlags(['--node-name', name, ...base.slice(2)]);
    assert.ok(config !== 'help' && config.nodeName === name, name);
  }
  for (const name of [
    'Worker-1',
    '-worker',
    'worker-',
    'a..b',
    'a_b',
    `${'a'.repeat(64)}.b`,
    'a.'.repeat(127) + 'a',
  ]) {
    assert.throws(
      () => parseAgentFlags([`--node-name=${name}`, ...base.slice(2)]),
      /--node-name ".*" is not valid; accepted: a DNS-1123 subdomain/,
      name,
    );
  }
});
