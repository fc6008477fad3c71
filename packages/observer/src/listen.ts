// Binding and stopping a grpc-js server, shared by the agent's Observer server and the relay.
import { rmSync } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';
import type * as grpc from '@grpc/grpc-js';

/**
 * Binds every listen address ("host:port", "unix:///path"; a stale socket file is replaced)
 * and resolves to the bound addresses with port 0 resolved.
 */
export async function bindAll(
  server: grpc.Server,
  listen: readonly string[],
  creds: grpc.ServerCredentials,
): Promise<string[]> {
  const bound: string[] = [];
  for (const addr of listen) {
    const target = addr.startsWith('unix://') ? `unix:${addr.slice(7)}` : addr;
    if (target.startsWith('unix:')) rmSync(target.slice(5), { force: true });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(target, creds, (err, p) =>
        err ? reject(new Error(`cannot listen on ${addr}: ${err.message}`)) : resolve(p),
      ),
    );
    disableNagle(server);
    bound.push(target.startsWith('unix:') ? `unix://${target.slice(5)}` : target.replace(/:0$/, `:${port}`));
  }
  return bound;
}

/**
 * grpc-js leaves Nagle's algorithm on for accepted sockets: small flow messages then wait for
 * delayed ACKs (40 ms stalls, a few hundred messages a second). Its clients already disable it.
 * Reads a grpc-js internal; without it nothing changes but latency.
 */
function disableNagle(server: grpc.Server): void {
  const servers = (server as unknown as { http2Servers?: Map<NetServer, unknown> }).http2Servers;
  for (const srv of servers?.keys() ?? []) {
    const marked = srv as NetServer & { wirescopeNoDelay?: boolean };
    if (marked.wirescopeNoDelay) continue;
    marked.wirescopeNoDelay = true;
    srv.on('connection', (socket: Socket) => socket.setNoDelay?.(true));
    srv.on('secureConnection', (socket: Socket) => socket.setNoDelay?.(true));
  }
}

/** Stops accepting calls; open streams are cancelled after graceMs. */
export async function shutdown(server: grpc.Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
