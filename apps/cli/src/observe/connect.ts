// Connecting the CLI to a relay or agent: --server (host:port or unix:///path) and hubble's TLS flags.
import * as grpc from '@grpc/grpc-js';
import {
  clientChannelOptions,
  clientCredentials,
  clientTlsFromFlags,
  makeClient,
  type ClientTlsFiles,
} from '@wirescope/observer';
import type { GivenFlag, Options } from '../args.js';
import { UsageError } from '../command.js';

export const defaultServer = 'localhost:4245';

export interface ConnectOptions {
  server: string;
  tls?: ClientTlsFiles | undefined;
  timeoutMs: number;
}

/** The connection flags every Observer-speaking command shares (node:util parseArgs options). */
export const connectFlagOptions = {
  server: { type: 'string' },
  'tls-ca-cert-files': { type: 'string' },
  'tls-client-cert-file': { type: 'string' },
  'tls-client-key-file': { type: 'string' },
  'tls-server-name': { type: 'string' },
  timeout: { type: 'string' },
  tls: { type: 'boolean' },
} as const satisfies Options;

export const connectUsage = `server: --server host:port|unix:///path (default localhost:4245), --tls, --tls-ca-cert-files,
    --tls-client-cert-file, --tls-client-key-file, --tls-server-name, --timeout 5s`;

/** The connection flags among the given ones, keyed as typed in full ("--server"), for connectOptions. */
export function connectFlagValues(given: readonly GivenFlag[]): Map<string, string | true> {
  return new Map(
    given
      .filter((g) => Object.hasOwn(connectFlagOptions, g.name))
      .map((g) => [`--${g.name}`, g.value ?? true]),
  );
}

export function connectOptions(values: Map<string, string | true>): ConnectOptions {
  const server =
    (values.get('--server') as string | undefined) ?? process.env.WIRESCOPE_SERVER ?? defaultServer;
  if (!/^(unix:\/\/\/.+|\/.+|\[[0-9a-fA-F:]+\]:\d+|[^:/\s]+:\d+)$/.test(server)) {
    throw new UsageError(`--server "${server}" is not host:port or unix:///path (default ${defaultServer})`);
  }
  const timeoutText = (values.get('--timeout') as string | undefined) ?? '5s';
  const timeoutMs = parseDuration(timeoutText, '--timeout');
  // a zero deadline has passed before the first connection attempt: it can only ever fail
  if (timeoutMs <= 0)
    throw new UsageError(`--timeout "${timeoutText}" must be longer than 0 (accepted e.g. 500ms, 5s, 1m)`);
  const tls = clientTlsFromFlags(
    {
      enabled: values.has('--tls'),
      ca: values.get('--tls-ca-cert-files') as string | undefined,
      cert: values.get('--tls-client-cert-file') as string | undefined,
      key: values.get('--tls-client-key-file') as string | undefined,
      serverName: values.get('--tls-server-name') as string | undefined,
    },
    {
      enable: '--tls',
      ca: '--tls-ca-cert-files',
      cert: '--tls-client-cert-file',
      key: '--tls-client-key-file',
      serverName: '--tls-server-name',
    },
    (message) => new UsageError(message),
  );
  return tls ? { server, timeoutMs, tls } : { server, timeoutMs };
}

export function connect(opts: ConnectOptions): grpc.Client {
  try {
    return makeClient(opts.server, clientCredentials(opts.tls), {
      ...clientChannelOptions(opts.tls),
      'grpc-node.flow_control_window': 1024 * 1024,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Waits for the server; a clear one-line error when it is not there. */
export async function ready(client: grpc.Client, opts: ConnectOptions): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + opts.timeoutMs, (err) =>
      err
        ? reject(
            new Error(
              `cannot reach ${opts.server}: ${err.message}. Is the relay running (wirescope lab up), or give --server`,
            ),
          )
        : resolve(),
    ),
  );
}

/** Go-style durations ("500ms", "5m", "1h30m", "2h45m10s") in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  // Go's time.ParseDuration takes a bare "0" (and no other number without a unit)
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) break;
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    total += Number(m[1]) * unit;
    consumed += m[0].length;
  }
  if (consumed !== text.length || text.length === 0) {
    throw new UsageError(`${flag} "${text}" is not a duration (accepted e.g. 500ms, 30s, 5m, 1h30m)`);
  }
  return total;
}
