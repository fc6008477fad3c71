import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ERROR_RESPONSES } from './errors.js';

export const PeerStatusSchema = Type.Object({
  /** Absent for a peer whose key matches no node in the last node list. */
  node: Type.Optional(Type.String()),
  publicKey: Type.String(),
  endpoint: Type.Optional(Type.String()),
  allowedIPs: Type.Array(Type.String()),
  latestHandshake: Type.Optional(Type.String({ description: 'ISO time; absent if none yet' })),
  handshakeAgeSeconds: Type.Optional(Type.Number()),
  rxBytes: Type.Number(),
  txBytes: Type.Number(),
  persistentKeepalive: Type.Number(),
  staleSince: Type.Optional(Type.String({ description: "set while the peer node's agent is gone" })),
});

/** An agent's WireGuard device and peers, as `wirescope encrypt status` prints them. */
export const EncryptStatusResponseSchema = Type.Object({
  node: Type.String(),
  underlayIP: Type.String(),
  podCIDR: Type.String(),
  mechanism: Type.String(),
  interface: Type.String(),
  publicKey: Type.String(),
  listenPort: Type.Integer(),
  mtu: Type.Integer(),
  peers: Type.Array(PeerStatusSchema),
  observedAt: Type.String({ description: 'ISO time the device was read' }),
  steering: Type.Optional(
    Type.Object({
      rule: Type.Boolean({ description: 'the fwmark rule (priority 1) is in place' }),
      route: Type.Boolean({ description: 'the table sends to the WireGuard device' }),
      unreachable: Type.Boolean({ description: 'the table refuses marked packets while the device is gone' }),
      mark: Type.String({ description: 'mark/mask that from_endpoint sets on cross-node pod packets' }),
      table: Type.Integer(),
      repairs: Type.Integer({ description: 'times the agent put a removed part back' }),
    }),
  ),
});
export type EncryptStatusResponse = Static<typeof EncryptStatusResponseSchema>;

export const RotateKeyResponseSchema = Type.Object({
  node: Type.String(),
  previousPublicKey: Type.String(),
  publicKey: Type.String(),
  /** False while the store is unreachable: the resync loop publishes the key once it answers. */
  published: Type.Boolean(),
});
export type RotateKeyResponse = Static<typeof RotateKeyResponseSchema>;

export interface EncryptSource {
  encryptStatus(): Promise<EncryptStatusResponse>;
  rotateKey(): Promise<RotateKeyResponse>;
}

/** GET /v1/encrypt, POST /v1/encrypt/rotate-key */
export const encryptPlugin: FastifyPluginAsyncTypebox<{ source: EncryptSource }> = async (
  app,
  { source },
) => {
  app.get(
    '/v1/encrypt',
    { schema: { response: { 200: EncryptStatusResponseSchema, ...ERROR_RESPONSES } } },
    () => source.encryptStatus(),
  );
  app.post(
    '/v1/encrypt/rotate-key',
    { schema: { response: { 200: RotateKeyResponseSchema, ...ERROR_RESPONSES } } },
    () => source.rotateKey(),
  );
};
