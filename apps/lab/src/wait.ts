// What `lab up` waits for, and how it tells that waiting cannot help: etcd healthy, every node
// pair handshaken, the relay connected to every agent; a daemon that exited fails the wait at once.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { agentRequest, type EncryptStatusResponse } from '@wirescope/agent/client';
import { ServerStatusRequestSchema, type ServerStatusResponse } from '@wirescope/flow';
import { makeClient, methods, unary } from '@wirescope/observer';
import { LabError } from './errors.js';
import { RELAY_FORWARD_PORT, UI_URL, agentSocket, etcdForwardSocket } from './names.js';
import { isAlive } from './process.js';
import type { Daemon } from './shell.js';
import type { LabSpec } from './spec.js';

/** Polls `probe` every 100 ms until it gives a value; a LabError from it ends the wait at once. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      // A LabError says waiting cannot help (a daemon exited): fail now, not at the timeout.
      if (err instanceof LabError) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `: ${lastError}` : ''}`,
  );
}

/** Throws a LabError naming the first of `daemons` that has exited, with the end of its log. */
export function requireAlive(daemons: Daemon[]): void {
  for (const d of daemons) {
    if (isAlive(d.pid)) continue;
    let tail = '';
    try {
      tail = readFileSync(d.log, 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      tail = '(no log)';
    }
    throw new LabError(`${d.name} exited: ${tail} (log ${d.log})`);
  }
}

/** etcd's plain HTTP /health through the loopback forward: true once it reports healthy. */
export function etcdHealthy(): Promise<true | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath: etcdForwardSocket, path: '/health', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(/"health":\s*"true"/.test(body) ? true : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** True once the lab's web UI answers its health route on loopback. */
export async function uiAnswers(): Promise<true | undefined> {
  try {
    const res = await fetch(`${UI_URL}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? true : undefined;
  } catch {
    return undefined;
  }
}

/** The relay's ServerStatus over a plain address (its unix socket, or the loopback forward). */
export async function relayStatus(address: string, timeoutMs = 2000): Promise<ServerStatusResponse> {
  const client = makeClient(address, grpc.credentials.createInsecure());
  try {
    return await unary(client, methods.observer.serverStatus, create(ServerStatusRequestSchema), {
      deadlineMs: timeoutMs,
    });
  } finally {
    client.close();
  }
}

/** Until the relay, asked through the root namespace's forward, has every agent connected. */
export async function waitForRelay(spec: LabSpec, daemons: Daemon[], timeoutMs: number): Promise<void> {
  await waitFor(`the relay to connect to all ${spec.nodes.length} agents`, timeoutMs, async () => {
    requireAlive(daemons.filter((d) => d.name === 'relay' || d.name === 'relay-forward'));
    const status = await relayStatus(`127.0.0.1:${RELAY_FORWARD_PORT}`, 1000);
    if (status.numConnectedNodes !== spec.nodes.length)
      throw new Error(`${status.numConnectedNodes ?? 0} connected`);
    return true;
  });
}

/** One lab node's WireGuard status, from its agent's local API. */
export async function encryptStatusOf(node: string): Promise<EncryptStatusResponse> {
  return agentRequest(agentSocket(node), 'GET', '/v1/encrypt');
}

/** Resolves once every agent has a peer for every other node and each peer has handshaken. */
export async function waitForMesh(
  spec: LabSpec,
  timeoutMs: number,
  since = 0,
  agents: Daemon[] = [],
): Promise<void> {
  await waitFor('every node pair to complete a WireGuard handshake', timeoutMs, async () => {
    // an agent that died will not come: say why at once instead of timing out
    requireAlive(agents);
    for (const node of spec.nodes) {
      const status = await encryptStatusOf(node.name);
      if (status.peers.length !== spec.nodes.length - 1) return undefined;
      for (const peer of status.peers) {
        if (!peer.latestHandshake || Date.parse(peer.latestHandshake) < since) return undefined;
      }
    }
    return true;
  });
}
