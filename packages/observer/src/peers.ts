// The peers a node knows (fed by the agent from the cluster store); Peer.Notify streams them.
import { EventEmitter } from 'node:events';
import { ChangeNotificationType } from '@wirescope/flow';

export interface PeerInfo {
  name: string;
  /** host:port of the peer's Observer API. */
  address: string;
  /** TLS server name to verify, when the peer serves TLS. */
  tlsServerName?: string | undefined;
}

export interface PeerChange {
  type: ChangeNotificationType;
  peer: PeerInfo;
}

export class PeerRegistry extends EventEmitter<{ change: [PeerChange] }> {
  private readonly known = new Map<string, PeerInfo>();

  list(): PeerInfo[] {
    return [...this.known.values()];
  }

  /** Adds a peer or updates it when its address or TLS name changed. */
  set(peer: PeerInfo): void {
    const old = this.known.get(peer.name);
    if (old && old.address === peer.address && old.tlsServerName === peer.tlsServerName) return;
    this.known.set(peer.name, { ...peer });
    this.emit('change', {
      type: old ? ChangeNotificationType.PEER_UPDATED : ChangeNotificationType.PEER_ADDED,
      peer: { ...peer },
    });
  }

  delete(name: string): void {
    const old = this.known.get(name);
    if (!old) return;
    this.known.delete(name);
    this.emit('change', { type: ChangeNotificationType.PEER_DELETED, peer: old });
  }
}
