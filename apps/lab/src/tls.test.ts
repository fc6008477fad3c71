import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELAY_SERVER_NAME, agentServerName, createLabPki } from './tls.js';

const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });

test('the lab PKI: every certificate chains to the lab CA, agents carry their underlay IP, keys are 0600', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wst5-pki-'));
  try {
    const nodes = [
      { name: 'node1', address: '10.77.0.11' },
      { name: 'node2', address: '10.77.0.12' },
    ];
    const pki = await createLabPki({ nodes } as Parameters<typeof createLabPki>[0], dir);
    const pairs = [pki.agents.node1, pki.agents.node2, pki.relayServer, pki.relayClient, pki.cli, pki.ui];
    for (const pair of pairs) {
      assert.ok(pair);
      assert.match(openssl('verify', '-CAfile', pki.ca, pair.cert), /: OK/);
      assert.equal(statSync(pair.key).mode & 0o777, 0o600);
    }
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
    const agent1 = openssl('x509', '-in', pki.agents.node1?.cert ?? '', '-noout', '-text');
    assert.match(agent1, new RegExp(`DNS:${agentServerName('node1')}, IP Address:10\\.77\\.0\\.11`));
    assert.match(agent1, /TLS Web Server Authentication/);
    const relay = openssl('x509', '-in', pki.relayServer.cert, '-noout', '-text');
    assert.match(relay, new RegExp(`DNS:${RELAY_SERVER_NAME}`));
    assert.match(relay, /IP Address:10\.77\.0\.254/);
    assert.match(openssl('x509', '-in', pki.cli.cert, '-noout', '-text'), /TLS Web Client Authentication/);
    const ui = openssl('x509', '-in', pki.ui.cert, '-noout', '-text');
    assert.match(ui, /Subject: CN ?= ?wirescope-ui/);
    assert.match(ui, /TLS Web Client Authentication/);
    // No CSRs or extension files left behind.
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.csr') || f.endsWith('.ext')),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
