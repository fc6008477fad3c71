/**
 * Mounts @wirescope/observer's Hubble Observer/Peer/Wirescope gRPC server on the agent and feeds
 * it from the datapath's flow observer: every enriched flow goes into its ring, every handshake
 * into its handshake log, and the cluster's nodes become Peer.Notify entries for the relay.
 */
import { HandshakeLog, Observer, ObserverServer, PeerRegistry } from '@wirescope/observer';
import type { NodeRecord } from '../store/types.js';
import type { FlowObserver } from '../flows/observer.js';

export interface HubbleMountOptions {
  nodeName: string;
  capacity: number;
  /** host:port and unix:///path addresses; the first TCP one's port is advertised to peers. */
  listen: string[];
}

export class HubbleMount {
  readonly observer: Observer;
  readonly handshakes: HandshakeLog;
  readonly peers = new PeerRegistry();
  private readonly server: ObserverServer;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly options: HubbleMountOptions,
    private readonly flows: FlowObserver,
  ) {
    this.observer = new Observer({ nodeName: options.nodeName, capacity: options.capacity });
    this.handshakes = new HandshakeLog(options.nodeName);
    this.server = new ObserverServer({
      observer: this.observer,
      peers: this.peers,
      handshakes: this.handshakes,
      listen: options.listen,
    });
  }

  async start(): Promise<string[]> {
    this.unsubscribe = this.flows.subscribe((item) => {
      if (item.kind === 'flow') this.observer.push(item.flow);
      else this.handshakes.push(item.handshake);
    });
    return this.server.start();
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
    this.unsubscribe?.();
    await this.server.stop();
  }
}
