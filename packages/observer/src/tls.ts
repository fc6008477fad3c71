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

/** The flags a program names a TLS server side with, for the messages of the rules below. */
export interface ServerTlsFlags {
  cert: string;
  key: string;
  clientCa: string;
}

/** The flags of a TLS client side; `enable` is a boolean flag asking for TLS (the CLI's --tls). */
export interface ClientTlsFlags {
  ca: string;
  cert: string;
  key: string;
  serverName: string;
  enable?: string | undefined;
}

/** Builds the program's own error (a usage or configuration error) from a rule's message. */
type Invalid = (message: string) => Error;

const plainError: Invalid = (message) => new Error(message);

/**
 * The TLS files of a server from its flags (an empty value counts as not given): a certificate
 * and its key together, a client CA (mutual TLS) only with them. Undefined: serve without TLS.
 */
export function serverTlsFromFlags(
  given: Partial<Record<keyof ServerTlsFlags, string | undefined>>,
  flags: ServerTlsFlags,
  invalid: Invalid = plainError,
): ServerTlsFiles | undefined {
  const { cert, key, clientCa } = given;
  if (!cert !== !key) throw invalid(`${flags.cert} and ${flags.key} go together`);
  if (clientCa && !cert) throw invalid(`${flags.clientCa} needs ${flags.cert} and ${flags.key}`);
  return cert && key ? { cert, key, clientCa: clientCa || undefined } : undefined;
}

/**
 * The TLS files of a client from its flags (an empty value counts as not given): TLS is wanted
 * when enabled or given a CA or client certificate, and then needs the CA; the client certificate
 * and key go together; a server name or key alone is a mistake, not a request for plain text.
 * Undefined: connect without TLS.
 */
export function clientTlsFromFlags(
  given: Partial<Record<Exclude<keyof ClientTlsFlags, 'enable'>, string | undefined>> & { enabled?: boolean },
  flags: ClientTlsFlags,
  invalid: Invalid = plainError,
): ClientTlsFiles | undefined {
  const { ca, cert, key, serverName } = given;
  if (!given.enabled && !ca && !cert) {
    if (serverName || key)
      throw invalid(
        `${flags.serverName}/${flags.key} need ${flags.enable ? `${flags.enable} and ` : ''}${flags.ca}`,
      );
    return undefined;
  }
  if (!ca)
    throw invalid(
      `${flags.enable ?? flags.cert} needs ${flags.ca} FILE (the CA that signed the server certificate)`,
    );
  if (!cert !== !key) throw invalid(`${flags.cert} and ${flags.key} go together`);
  return { ca, cert: cert || undefined, key: key || undefined, serverName: serverName || undefined };
}
