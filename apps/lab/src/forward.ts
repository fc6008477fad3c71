import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { socketIn } from './names.js';
import { isAlive, sendSignal } from './process.js';
import { FORWARD_MAIN } from './programs.js';
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
  return startDaemon(name, namespace, [process.execPath, FORWARD_MAIN, socketPath, host, String(port)]);
}

/** A forward from the root namespace's loopback into a lab namespace, open until closed. */
export interface NamespaceForward {
  /** The loopback port it listens on (the one asked for, or the one picked for 0). */
  port: number;
  close(): void;
}

/**
 * `lab forward`: like kubectl port-forward, 127.0.0.1:localPort (0 = any free port) in the root
 * namespace to host:port inside a lab namespace, through a unix socket under SOCKET_DIR.
 */
export async function forwardIntoNamespace(
  namespace: string,
  host: string,
  port: number,
  localPort: number,
): Promise<NamespaceForward> {
  const name = `forward-${namespace}-${port}-${process.pid}`;
  const socketPath = socketIn(name);
  const inner = startNamespaceForward(name, namespace, socketPath, host, port);
  const stopInner = () => {
    if (isAlive(inner.pid)) sendSignal(inner.pid, 'SIGTERM');
    rmSync(socketPath, { force: true });
  };
  for (let i = 0; i < 100 && !existsSync(socketPath); i++) await sleep(50);
  try {
    if (!existsSync(socketPath))
      throw new Error(`the forward inside ${namespace} did not start (log ${inner.log})`);
    const outer = await listenLoopback(localPort, socketPath);
    return {
      port: outer.port,
      close: () => {
        outer.close();
        stopInner();
      },
    };
  } catch (err) {
    stopInner();
    throw err;
  }
}
