/**
 * Wirescope's own metrics (the `wirescope_` table in this package's README): encryption coverage
 * per node pair from the kernel's counters, leaks, handshakes by message type and outcome, round
 * trips and rekeys, datapath attachments, the flow ring and loss by stage.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HandshakeMessageType, type HandshakeEvent as HandshakeRecord } from '@wirescope/flow';
import type { NodeMetricsSource } from './source.js';

/** WireGuard's REKEY_TIMEOUT: an initiation with no response by then is retried by the sender. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
export const ROUND_TRIP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const MESSAGE_NAMES: Record<number, string> = {
  [HandshakeMessageType.HANDSHAKE_INITIATION]: 'initiation',
  [HandshakeMessageType.HANDSHAKE_RESPONSE]: 'response',
  [HandshakeMessageType.HANDSHAKE_COOKIE_REPLY]: 'cookie_reply',
};

export function registerStateMetrics(registry: Registry, source: NodeMetricsSource): void {
  const registers = [registry];
  const coverage = (name: string, help: string, pick: 'packets' | 'bytes') =>
    new Counter({
      name,
      help,
      labelNames: ['source_node', 'destination_node', 'state'],
      registers,
      collect() {
        this.reset();
        for (const c of source.datapath()?.coverage ?? []) {
          this.inc(
            { source_node: source.nodeName, destination_node: c.destinationNode, state: c.state },
            c[pick],
          );
        }
      },
    });
  coverage(
    'wirescope_encryption_packets_total',
    'Cross-node pod packets leaving this node by destination node and state (encrypted, plaintext, dropped by strict mode), counted in the kernel for every packet',
    'packets',
  );
  coverage(
    'wirescope_encryption_bytes_total',
    'Cross-node pod bytes leaving this node by destination node and state (encrypted, plaintext, dropped by strict mode), counted in the kernel for every packet',
    'bytes',
  );
  new Counter({
    name: 'wirescope_leak_packets_total',
    help: 'Pod-CIDR packets seen in clear on the underlay (plaintext pod traffic on the wire)',
    registers,
    collect() {
      this.reset();
      const dp = source.datapath();
      if (dp) this.inc(dp.leakPackets);
    },
  });
  new Gauge({
    name: 'wirescope_strict_mode',
    help: 'Whether strict encryption mode is on (cross-node pod traffic without a WireGuard peer is dropped)',
    registers,
    collect() {
      this.set(source.strictMode() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'wirescope_cluster_nodes',
    help: 'Nodes in the cluster store, this one included',
    registers,
    collect() {
      this.set(source.clusterNodes());
    },
  });
  new Gauge({
    name: 'wirescope_wireguard_peers',
    help: "WireGuard peers on this node's device, by whether the peer node's agent is alive (fresh) or gone (stale)",
    labelNames: ['state'],
    registers,
    collect() {
      const peers = source.wireguard()?.peers ?? [];
      const stale = peers.filter((p) => p.stale).length;
      this.set({ state: 'fresh' }, peers.length - stale);
      this.set({ state: 'stale' }, stale);
    },
  });
  new Gauge({
    name: 'wirescope_datapath_loaded',
    help: 'Whether the eBPF datapath is loaded',
    registers,
    collect() {
      this.set(source.datapath() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'wirescope_datapath_program_attached',
    help: 'Whether a datapath program is attached to an interface (0: its attach failed)',
    labelNames: ['program', 'interface', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const a of source.datapath()?.attachments ?? []) {
        this.set({ program: a.program, interface: a.interface, direction: a.direction }, a.attached ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'wirescope_datapath_program_repairs_total',
    help: 'Times the agent found a datapath tc program taken away by something else (a TCX link detached; a filter deleted, flushed or replaced) and put it back',
    labelNames: ['program', 'interface', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const a of source.datapath()?.attachments ?? []) {
        if (a.repairs > 0)
          this.inc({ program: a.program, interface: a.interface, direction: a.direction }, a.repairs);
      }
    },
  });
  new Gauge({
    name: 'wirescope_flow_ring_flows',
    help: "Flows held in the agent's flow ring",
    registers,
    collect() {
      this.set(source.ring().flows);
    },
  });
  new Gauge({
    name: 'wirescope_flow_ring_capacity',
    help: "Capacity of the agent's flow ring",
    registers,
    collect() {
      this.set(source.ring().capacity);
    },
  });
  new Counter({
    name: 'wirescope_lost_events_total',
    help: 'Events lost, by stage: kernel_ring (ring-buffer reservation failures), decode (undecodable records), observer_queue (a slow follower)',
    labelNames: ['stage'],
    registers,
    collect() {
      this.reset();
      const lost = source.ring().lost;
      this.inc({ stage: 'kernel_ring' }, lost.kernelRing);
      this.inc({ stage: 'decode' }, lost.decode);
      this.inc({ stage: 'observer_queue' }, lost.observerQueue);
    },
  });
}

/** Handshake metrics, fed one handshake record (one WireGuard message on the underlay) at a time. */
export class HandshakeMetrics {
  private readonly messages: Counter<'peer_node' | 'message_type' | 'direction'>;
  private readonly handshakes: Counter<'peer_node' | 'outcome'>;
  private readonly roundTrip: Histogram<'peer_node'>;
  private readonly rekeys: Counter<'peer_node'>;
  /** locally sent initiations waiting for a response: sender index -> peer and when */
  private readonly pending = new Map<number, { peer: string; atMs: number }>();
  private readonly completedPeers = new Set<string>();

  constructor(
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    this.messages = new Counter({
      name: 'wirescope_handshake_messages_total',
      help: 'WireGuard handshake messages on the underlay by peer node, message type (initiation, response, cookie_reply) and direction (sent, received, unknown)',
      labelNames: ['peer_node', 'message_type', 'direction'],
      registers,
    });
    const sweep = () => this.sweep();
    this.handshakes = new Counter({
      name: 'wirescope_handshakes_total',
      help: 'WireGuard handshakes by peer node and outcome: completed (a response), unanswered (a local initiation with no response within 5 s)',
      labelNames: ['peer_node', 'outcome'],
      registers,
      collect: sweep,
    });
    this.roundTrip = new Histogram({
      name: 'wirescope_handshake_round_trip_seconds',
      help: 'Time from a local handshake initiation to its response, by peer node',
      labelNames: ['peer_node'],
      buckets: ROUND_TRIP_BUCKETS,
      registers,
    });
    this.rekeys = new Counter({
      name: 'wirescope_rekeys_total',
      help: 'Completed handshakes with a peer node that already had a session (rekeys)',
      labelNames: ['peer_node'],
      registers,
    });
  }

  observe(h: HandshakeRecord): void {
    const peer = h.peerNode;
    const type = MESSAGE_NAMES[h.messageType];
    if (!type) return;
    let direction = 'unknown';
    if (h.messageType === HandshakeMessageType.HANDSHAKE_INITIATION)
      direction = h.initiatedLocally ? 'sent' : 'received';
    else if (h.messageType === HandshakeMessageType.HANDSHAKE_RESPONSE)
      direction = h.initiatedLocally ? 'received' : 'sent';
    this.messages.inc({ peer_node: peer, message_type: type, direction });
    if (h.messageType === HandshakeMessageType.HANDSHAKE_INITIATION && direction === 'sent') {
      this.pending.set(h.senderIndex, { peer, atMs: this.now() });
      if (this.pending.size > 4096) this.pending.delete(this.pending.keys().next().value as number);
    }
    if (h.messageType === HandshakeMessageType.HANDSHAKE_RESPONSE) {
      if (direction === 'received') this.pending.delete(h.receiverIndex);
      this.handshakes.inc({ peer_node: peer, outcome: 'completed' });
      if (this.completedPeers.has(peer)) this.rekeys.inc({ peer_node: peer });
      else {
        // the pair's series from its first session on, so rate() sees its first rekey
        this.completedPeers.add(peer);
        this.rekeys.inc({ peer_node: peer }, 0);
      }
      if (h.roundTripNs > 0n) this.roundTrip.observe({ peer_node: peer }, Number(h.roundTripNs) / 1e9);
    }
  }

  /** Initiations past WireGuard's timeout with no response become unanswered handshakes. */
  sweep(): void {
    const cutoff = this.now() - HANDSHAKE_TIMEOUT_MS;
    for (const [index, p] of this.pending) {
      if (p.atMs > cutoff) continue;
      this.pending.delete(index);
      this.handshakes.inc({ peer_node: p.peer, outcome: 'unanswered' });
    }
  }
}
