import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDaemon, type Daemon } from './shell.js';

/**
 * Loopback forwards, like `kubectl port-forward`: the root namespace never talks to a lab address.
 * A small relay inside a lab namespace listens on a unix socket (filesystem objects cross network
 * namespaces) and connects to a TCP service there; in the root namespace a listener on 127.0.0.1
 * pipes into that socket.
 */

function pipe(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

/** Inside a namespace: unix socket -> host:port in that namespace. */
export function serveUnixToTcp(socketPath: string, host: string, port: number): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer((client) => pipe(client, createConnection({ host, port })));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}

/** In the root namespace: 127.0.0.1:port (0 = any free port) -> unix socket. */
export interface LoopbackForward {
  server: Server;
  port: number;
  /** Stops listening and cuts every open connection (a closed server alone keeps them alive). */
  close(): void;
}

export function listenLoopback(port: number, socketPath: string): Promise<LoopbackForward> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(socketPath);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    pipe(client, upstream);
  });
  const close = () => {
    server.close();
    for (const s of open) s.destroy();
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : port, close });
    });
  });
}

/** Starts the in-namespace half as a daemon (forward-main.js) managed like every lab process. */
export function startNamespaceForward(
  name: string,
  namespace: string,
  socketPath: string,
  host: string,
  port: number,
): Daemon {
  const main = fileURLToPath(new URL('./forward-main.js', import.meta.url));
  return startDaemon(name, namespace, [process.execPath, main, socketPath, host, String(port)]);
}
