// TLS and mutual TLS from certificate files, for agents, the relay and the CLI.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

export interface ServerTlsFiles {
  cert: string;
  key: string;
  /** CA that client certificates must chain to; set it to require mutual TLS. */
  clientCa?: string | undefined;
}

export interface ClientTlsFiles {
  /** CA that the server's certificate must chain to. */
  ca: string;
  /** Client certificate and key, for mutual TLS. */
  cert?: string | undefined;
  key?: string | undefined;
  /** Name to verify in the server certificate when it differs from the dialled host. */
  serverName?: string | undefined;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(
      `cannot read ${what} "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export function serverCredentials(tls?: ServerTlsFiles): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const ca = tls.clientCa ? read(tls.clientCa, 'client CA') : null;
  return grpc.ServerCredentials.createSsl(
    ca,
    [{ cert_chain: read(tls.cert, 'TLS certificate'), private_key: read(tls.key, 'TLS key') }],
    ca !== null,
  );
}

export function clientCredentials(tls?: ClientTlsFiles): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new Error('mutual TLS needs both a client certificate and its key');
  }
  return grpc.credentials.createSsl(
    read(tls.ca, 'CA certificate'),
    tls.key ? read(tls.key, 'TLS key') : null,
    tls.cert ? read(tls.cert, 'TLS certificate') : null,
  );
}

export function clientChannelOptions(tls?: ClientTlsFiles): grpc.ChannelOptions {
  return tls?.serverName
    ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }
    : {};
}
