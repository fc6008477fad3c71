/**
 * Mounts @wirescope/observer's Hubble Observer/Peer/Wirescope gRPC server on the agent, serving
 * the datapath's one observer (its flow ring and handshake log: nothing is copied), and makes the
 * cluster's nodes Peer.Notify entries for the relay.
 */
import { Observer, ObserverServer, PeerRegistry, type ServerTlsFiles } from '@wirescope/observer';
import {
  Mechanism,
  NodeEncryptionStatusSchema,
  PeerEncryptionStatusSchema,
  type NodeEncryptionStatus,
} from '@wirescope/flow';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { EncryptStatus } from '../wireguard/manager.js';
import type { NodeRecord } from '../store/types.js';

export interface HubbleMountOptions {
  nodeName: string;
  /** host:port and unix:///path addresses; the first TCP one's port is advertised to peers. */
  listen: string[];
  /** TLS for the TCP addresses; unix sockets stay plain (local, guarded by file permissions). */
  tls?: ServerTlsFiles | undefined;
}

export class HubbleMount {
  readonly peers = new PeerRegistry();
  private readonly servers: ObserverServer[] = [];
  private encryption: NodeEncryptionStatus[] = [];

  constructor(
    private readonly options: HubbleMountOptions,
    readonly observer: Observer,
  ) {
    const unix = options.listen.filter((a) => a.startsWith('unix://'));
    const tcp = options.listen.filter((a) => !a.startsWith('unix://'));
    const groups = options.tls
      ? [{ listen: tcp, tls: options.tls }, { listen: unix }]
      : [{ listen: options.listen }];
    for (const group of groups) {
      if (group.listen.length === 0) continue;
      this.servers.push(
        new ObserverServer({
          observer,
          peers: this.peers,
          handshakes: observer.handshakes,
          encryptionStatus: () => this.encryption,
          ...group,
        }),
      );
    }
  }

  /**
   * The node's WireGuard state for the Wirescope EncryptionStatus call, refreshed on every resync
   * and whenever the device goes down or comes back; `error` says what is wrong (device down).
   */
  setEncryptStatus(status: EncryptStatus | undefined, error?: string): void {
    this.encryption = [
      create(NodeEncryptionStatusSchema, {
        nodeName: this.options.nodeName,
        mechanism: Mechanism.WIREGUARD,
        implementation: status?.mechanism ?? '',
        interface: status?.interface ?? '',
        publicKey: status?.publicKey ?? '',
        listenPort: status?.listenPort ?? 0,
        error: error ?? '',
        observedAt: timestampFromDate(status ? new Date(status.observedAt) : new Date()),
        peers: (status?.peers ?? []).map((p) =>
          create(PeerEncryptionStatusSchema, {
            peerNode: p.node ?? '',
            peerPublicKey: p.publicKey,
            endpoint: p.endpoint ?? '',
            allowedIps: p.allowedIPs,
            latestHandshake: p.latestHandshake ? timestampFromDate(new Date(p.latestHandshake)) : undefined,
            rxBytes: BigInt(p.rxBytes),
            txBytes: BigInt(p.txBytes),
            staleSince: p.staleSince ? timestampFromDate(new Date(p.staleSince)) : undefined,
          }),
        ),
      }),
    ];
  }

  async start(): Promise<string[]> {
    const bound: string[] = [];
    for (const server of this.servers) bound.push(...(await server.start()));
    return bound;
  }

  /** Every node (this one included, as Hubble's peer service does) at its underlay address. */
  setNodes(nodes: NodeRecord[]): void {
    const tcp = this.options.listen.find((a) => !a.startsWith('unix://'));
    const port = tcp ? (tcp.split(':').pop() ?? '4244') : '4244';
    const wanted = new Set(nodes.map((n) => n.name));
    for (const peer of this.peers.list()) if (!wanted.has(peer.name)) this.peers.delete(peer.name);
    for (const node of nodes) this.peers.set({ name: node.name, address: `${node.underlayIP}:${port}` });
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
