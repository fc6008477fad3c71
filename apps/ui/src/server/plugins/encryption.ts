// GET /api/encryption: every node's WireGuard device and peers (the relay's Wirescope
// EncryptionStatus) and the recent handshakes, for the coverage matrix, the handshake timeline
// and the peer drift checklist. Flows are added by the browser from the live stream and history.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { HandshakeMessageType, Mechanism } from '@wirescope/flow';
import type { RelayApi } from '../relay-client.js';
import { ERROR_RESPONSES } from './errors.js';

const PeerSchema = Type.Object({
  peerNode: Type.String(),
  peerPublicKey: Type.String(),
  endpoint: Type.String(),
  allowedIps: Type.Array(Type.String()),
  latestHandshake: Type.Optional(Type.String()),
  rxBytes: Type.Number(),
  txBytes: Type.Number(),
  staleSince: Type.Optional(Type.String()),
});

const NodeEncryptionSchema = Type.Object({
  nodeName: Type.String(),
  mechanism: Type.String(),
  implementation: Type.String(),
  interface: Type.String(),
  publicKey: Type.String(),
  listenPort: Type.Integer(),
  strictMode: Type.Boolean(),
  peers: Type.Array(PeerSchema),
  leakedFlows: Type.Number(),
  error: Type.String(),
  observedAt: Type.Optional(Type.String()),
});

const HandshakeSchema = Type.Object({
  time: Type.String(),
  nodeName: Type.String(),
  peerNode: Type.String(),
  messageType: Type.String({ description: 'initiation, response, cookie-reply' }),
  initiatedLocally: Type.Boolean(),
  roundTripMs: Type.Optional(Type.Number()),
  senderIndex: Type.Integer(),
  receiverIndex: Type.Integer(),
});

export const EncryptionResponseSchema = Type.Object({
  nodes: Type.Array(NodeEncryptionSchema),
  handshakes: Type.Array(HandshakeSchema),
  /** Set when the handshake log could not be read (the status still stands). */
  handshakesError: Type.Optional(Type.String()),
  observedAt: Type.String(),
});
export type EncryptionResponse = Static<typeof EncryptionResponseSchema>;
export type NodeEncryption = Static<typeof NodeEncryptionSchema>;
export type PeerEncryption = Static<typeof PeerSchema>;
export type Handshake = Static<typeof HandshakeSchema>;

const iso = (t: Timestamp | undefined): string | undefined =>
  t && (t.seconds || t.nanos) ? new Date(timestampMs(t)).toISOString() : undefined;

const messageTypes: Record<number, string> = {
  [HandshakeMessageType.HANDSHAKE_INITIATION]: 'initiation',
  [HandshakeMessageType.HANDSHAKE_RESPONSE]: 'response',
  [HandshakeMessageType.HANDSHAKE_COOKIE_REPLY]: 'cookie-reply',
};

/** Handshakes kept per request: the timeline shows the last minutes of every pair. */
const handshakeCount = 500;

export async function readEncryption(relay: RelayApi): Promise<EncryptionResponse> {
  const [status, handshakes] = await Promise.all([
    relay.encryptionStatus(),
    relay.handshakes(handshakeCount).then(
      (list) => ({ list, error: undefined }),
      (err: Error) => ({ list: [], error: err.message }),
    ),
  ]);
  return {
    nodes: status.nodes.map((n) => ({
      nodeName: n.nodeName,
      mechanism: n.mechanism === Mechanism.WIREGUARD ? 'wireguard' : 'none',
      implementation: n.implementation,
      interface: n.interface,
      publicKey: n.publicKey,
      listenPort: n.listenPort,
      strictMode: n.strictMode,
      peers: n.peers.map((p) => ({
        peerNode: p.peerNode,
        peerPublicKey: p.peerPublicKey,
        endpoint: p.endpoint,
        allowedIps: p.allowedIps,
        latestHandshake: iso(p.latestHandshake),
        rxBytes: Number(p.rxBytes),
        txBytes: Number(p.txBytes),
        staleSince: iso(p.staleSince),
      })),
      leakedFlows: Number(n.leakedFlows),
      error: n.error,
      observedAt: iso(n.observedAt),
    })),
    handshakes: handshakes.list.flatMap((r) => {
      const h = r.handshake;
      if (!h) return [];
      return [
        {
          time: iso(h.time ?? r.time) ?? '',
          nodeName: h.nodeName || r.nodeName,
          peerNode: h.peerNode,
          messageType: messageTypes[h.messageType] ?? 'unknown',
          initiatedLocally: h.initiatedLocally,
          roundTripMs: h.roundTripNs ? Number(h.roundTripNs) / 1e6 : undefined,
          senderIndex: h.senderIndex,
          receiverIndex: h.receiverIndex,
        },
      ];
    }),
    handshakesError: handshakes.error,
    observedAt: new Date().toISOString(),
  };
}

export const encryptionPlugin: FastifyPluginAsyncTypebox<{ relay: RelayApi }> = async (app, { relay }) => {
  app.get(
    '/api/encryption',
    { schema: { response: { 200: EncryptionResponseSchema, ...ERROR_RESPONSES } } },
    () => readEncryption(relay),
  );
};
