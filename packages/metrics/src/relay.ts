/**
 * The relay's metrics (Hubble Relay's hubble_relay_pool_peer_connection_status, every status
 * always present) and its Prometheus service discovery: the agents it learnt from the cluster.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** grpc connectivity states as Cilium's relay names them, plus a peer without a connection. */
export const PEER_CONNECTION_STATUSES = [
  'IDLE',
  'CONNECTING',
  'READY',
  'TRANSIENT_FAILURE',
  'SHUTDOWN',
  'NIL_CONNECTION',
] as const;
export type PeerConnectionStatus = (typeof PEER_CONNECTION_STATUSES)[number];

export interface RelayPeerSnapshot {
  name: string;
  /** host:port of the agent's Hubble API, as Peer.Notify gave it */
  address: string;
  status: PeerConnectionStatus;
}

export interface RelayMetricsSource {
  peers(): RelayPeerSnapshot[];
  /** GetFlows requests by mode (follow, query): started and still open; flows sent to clients. */
  traffic?(): { requests: Record<string, number>; open: Record<string, number>; flowsSent: number };
}

/** One target group of Prometheus's http_sd_configs / file_sd_configs. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export class RelayMetrics {
  readonly registry = new Registry();

  constructor(
    private readonly source: RelayMetricsSource,
    options: { processMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    new Gauge({
      name: 'hubble_relay_pool_peer_connection_status',
      help: 'Measures the connectivity status of all peers by counting the number of peers for each given connection status.',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = new Map<string, number>(PEER_CONNECTION_STATUSES.map((s) => [s, 0]));
        for (const p of source.peers()) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'wirescope_relay_peer_ready',
      help: "Whether the relay's connection to an agent is READY (1) or not (0), by peer node",
      labelNames: ['peer_node'],
      registers,
      collect() {
        this.reset();
        for (const p of source.peers()) this.set({ peer_node: p.name }, p.status === 'READY' ? 1 : 0);
      },
    });
    new Counter({
      name: 'wirescope_relay_get_flows_requests_total',
      help: 'GetFlows requests the relay served, by mode (follow, query)',
      labelNames: ['mode'],
      registers,
      collect() {
        this.reset();
        for (const [mode, n] of Object.entries(source.traffic?.().requests ?? {})) this.inc({ mode }, n);
      },
    });
    new Gauge({
      name: 'wirescope_relay_clients',
      help: 'GetFlows streams open now, by mode (follow, query)',
      labelNames: ['mode'],
      registers,
      collect() {
        this.reset();
        for (const [mode, n] of Object.entries(source.traffic?.().open ?? {})) this.set({ mode }, n);
      },
    });
    new Counter({
      name: 'wirescope_relay_flows_sent_total',
      help: 'Flows the relay merged by time and wrote to its clients (summed over clients)',
      registers,
      collect() {
        this.reset();
        this.inc(source.traffic?.().flowsSent ?? 0);
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * The agents' metrics endpoints for Prometheus's http_sd_configs: each peer's host at the
   * agents' metrics port, labelled with its node name (as Kubernetes relabelling would give it).
   */
  targets(agentMetricsPort: number): TargetGroup[] {
    const groups: TargetGroup[] = [];
    for (const p of this.source.peers()) {
      if (p.address.startsWith('unix:')) continue;
      const host = p.address.replace(/:\d+$/, '');
      groups.push({ targets: [`${host}:${agentMetricsPort}`], labels: { node: p.name } });
    }
    return groups.sort((a, b) => (a.labels.node ?? '').localeCompare(b.labels.node ?? ''));
  }
}
