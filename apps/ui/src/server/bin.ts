#!/usr/bin/env node
// wirescope-ui: serves the UI on --listen (default 127.0.0.1:12000), reading the relay at --relay.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { clientTlsFromFlags } from '@wirescope/observer';
import { buildApp } from './app.js';
import { RelayClient } from './relay-client.js';
import { UiError } from './errors.js';
import { PrometheusClient } from './prometheus.js';

const usage = `usage: wirescope-ui [--listen 127.0.0.1:12000] [--relay localhost:4245]
  [--tls-ca-cert-files CA --tls-client-cert-file CERT --tls-client-key-file KEY --tls-server-name NAME]
  [--prometheus URL] (the charts' source; default http://127.0.0.1:9090, the lab's; "" for none)
  [--web-dir DIR] (default: the SPA built beside this program)`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:12000' },
      relay: { type: 'string', default: process.env.WIRESCOPE_SERVER ?? 'localhost:4245' },
      'tls-ca-cert-files': { type: 'string' },
      'tls-client-cert-file': { type: 'string' },
      'tls-client-key-file': { type: 'string' },
      'tls-server-name': { type: 'string' },
      'web-dir': { type: 'string' },
      prometheus: { type: 'string', default: process.env.WIRESCOPE_PROMETHEUS ?? 'http://127.0.0.1:9090' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const m = /^(.+):(\d+)$/.exec(values.listen);
  if (!m) throw new UiError('CONFIG', `--listen "${values.listen}" is not host:port`);
  const tls = clientTlsFromFlags(
    {
      ca: values['tls-ca-cert-files'],
      cert: values['tls-client-cert-file'],
      key: values['tls-client-key-file'],
      serverName: values['tls-server-name'],
    },
    {
      ca: '--tls-ca-cert-files',
      cert: '--tls-client-cert-file',
      key: '--tls-client-key-file',
      serverName: '--tls-server-name',
    },
    (message) => new UiError('CONFIG', message),
  );
  const relay = new RelayClient({ address: values.relay, tls });
  const webDir = values['web-dir'] ?? fileURLToPath(new URL('../web', import.meta.url));
  const prometheus = values.prometheus ? new PrometheusClient(values.prometheus) : undefined;
  const app = await buildApp({ relay, webDir, prometheus });
  await app.listen({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) });
  console.log(`wirescope ui: http://${values.listen} (relay ${values.relay})`);
  const stop = () => {
    void app.close().then(() => {
      relay.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`wirescope-ui: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof UiError ? 2 : 1);
});
