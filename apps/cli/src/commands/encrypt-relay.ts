// `wirescope encrypt status` through the relay: the whole cluster in one call (Wirescope
// EncryptionStatus), in the same shape as the agents' /v1/encrypt so both paths print alike.
import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  EncryptionStatusRequestSchema,
  ServerStatusRequestSchema,
  type NodeEncryptionStatus,
} from '@wirescope/flow';
import { clientCredentials, makeClient, methods, unary } from '@wirescope/observer';
import type { NodeEncryptView } from '../encrypt-format.js';

export type EncryptResult = NodeEncryptView | { node: string; error: string };

/** One node's status as the relay reports it, converted to the agent API's shape. */
export function fromRelayNode(n: NodeEncryptionStatus, now = Date.now()): NodeEncryptView {
  return {
    node: n.nodeName,
    mechanism: n.implementation,
    interface: n.interface,
    publicKey: n.publicKey,
    listenPort: n.listenPort,
    observedAt: n.observedAt ? timestampDate(n.observedAt).toISOString() : undefined,
    ...(n.error ? { degraded: n.error } : {}),
    peers: n.peers.map((p) => {
      const handshake = p.latestHandshake ? timestampDate(p.latestHandshake) : undefined;
      return {
        node: p.peerNode || undefined,
        publicKey: p.peerPublicKey,
        endpoint: p.endpoint || undefined,
        allowedIPs: p.allowedIps,
        latestHandshake: handshake?.toISOString(),
        handshakeAgeSeconds: handshake
          ? Math.max(0, Math.round((now - handshake.getTime()) / 1000))
          : undefined,
        rxBytes: Number(p.rxBytes),
        txBytes: Number(p.txBytes),
        staleSince: p.staleSince ? timestampDate(p.staleSince).toISOString() : undefined,
      };
    }),
  };
}

/**
 * Every node the relay knows: connected ones with their status, unavailable ones as errors.
 * Undefined when the relay cannot be reached within timeoutMs (the caller falls back to sockets).
 */
export async function encryptStatusViaRelay(
  server: string,
  timeoutMs: number,
): Promise<EncryptResult[] | undefined> {
  const client = makeClient(server, clientCredentials());
  try {
    const ready = await new Promise<boolean>((resolve) =>
      client.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err)),
    );
    if (!ready) return undefined;
    const [encryption, status] = await Promise.all([
      unary(client, methods.wirescope.encryptionStatus, create(EncryptionStatusRequestSchema), {
        deadlineMs: 5000,
      }),
      unary(client, methods.observer.serverStatus, create(ServerStatusRequestSchema), { deadlineMs: 5000 }),
    ]);
    const results: EncryptResult[] = encryption.nodes.map((n) => fromRelayNode(n));
    for (const node of status.unavailableNodes) {
      if (!results.some((r) => r.node === node)) results.push({ node, error: 'not connected to the relay' });
    }
    return results.sort((a, b) => a.node.localeCompare(b.node));
  } finally {
    client.close();
  }
}
