import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientTlsFromFlags, serverTlsFromFlags } from './tls.js';

const server = { cert: '--tls-cert', key: '--tls-key', clientCa: '--tls-client-ca' };
const client = { ca: '--ca', cert: '--cert', key: '--key', serverName: '--server-name' };

test('a server certificate and its key go together; a client CA only with them', () => {
  assert.equal(serverTlsFromFlags({}, server), undefined);
  assert.equal(serverTlsFromFlags({ cert: '', key: '' }, server), undefined, 'empty is not given');
  assert.deepEqual(serverTlsFromFlags({ cert: 'c', key: 'k' }, server), {
    cert: 'c',
    key: 'k',
    clientCa: undefined,
  });
  assert.deepEqual(serverTlsFromFlags({ cert: 'c', key: 'k', clientCa: 'ca' }, server), {
    cert: 'c',
    key: 'k',
    clientCa: 'ca',
  });
  assert.throws(
    () => serverTlsFromFlags({ cert: 'c' }, server),
    /^Error: --tls-cert and --tls-key go together$/,
  );
  assert.throws(
    () => serverTlsFromFlags({ key: 'k' }, server),
    /^Error: --tls-cert and --tls-key go together$/,
  );
  assert.throws(
    () => serverTlsFromFlags({ clientCa: 'ca' }, server),
    /^Error: --tls-client-ca needs --tls-cert and --tls-key$/,
  );
});

test('a client wants TLS when enabled or given a CA or certificate, and then needs the CA', () => {
  assert.equal(clientTlsFromFlags({}, client), undefined);
  assert.deepEqual(clientTlsFromFlags({ ca: 'ca', serverName: 'relay' }, client), {
    ca: 'ca',
    cert: undefined,
    key: undefined,
    serverName: 'relay',
  });
  assert.deepEqual(clientTlsFromFlags({ ca: 'ca', cert: 'c', key: 'k' }, client)?.cert, 'c');
  const refused: [Parameters<typeof clientTlsFromFlags>[0], string][] = [
    [{ serverName: 'relay' }, '--server-name/--key need --ca'],
    [{ key: 'k' }, '--server-name/--key need --ca'],
    [{ cert: 'c', key: 'k' }, '--cert needs --ca FILE (the CA that signed the server certificate)'],
    [{ ca: 'ca', cert: 'c' }, '--cert and --key go together'],
    [{ ca: 'ca', key: 'k' }, '--cert and --key go together'],
  ];
  for (const [given, message] of refused)
    assert.throws(() => clientTlsFromFlags(given, client), { message }, JSON.stringify(given));
});

test('with an enabling flag the messages name it, and each program words its own error', () => {
  const cli = { ...client, enable: '--tls' };
  class UsageError extends Error {}
  const invalid = (message: string) => new UsageError(message);
  assert.throws(
    () => clientTlsFromFlags({ enabled: true }, cli, invalid),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message === '--tls needs --ca FILE (the CA that signed the server certificate)',
  );
  assert.throws(() => clientTlsFromFlags({ serverName: 'x' }, cli, invalid), {
    message: '--server-name/--key need --tls and --ca',
  });
  assert.deepEqual(clientTlsFromFlags({ enabled: true, ca: 'ca' }, cli)?.ca, 'ca');
});
