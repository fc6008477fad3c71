/**
 * One node's metrics registry: Hubble's flow metrics fed flow by flow, WireGuard and Wirescope
 * state read from the agent's getters at scrape time, and process_* defaults (the Go relay has
 * them too, so shared dashboards use only those).
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Flow, FlowRecord, HandshakeEvent as HandshakeRecord } from '@wirescope/flow';
import { HubbleFlowMetrics } from './hubble.js';
import { parseHubbleMetrics } from './hubble-flag.js';
import type { NodeMetricsSource } from './source.js';
import { registerWireguardMetrics } from './wireguard.js';
import { HandshakeMetrics, registerStateMetrics } from './wirescope.js';

export interface NodeMetricsOptions {
  /** Cilium's --hubble-metrics syntax; "" enables none */
  hubbleMetrics: string;
  /** process_* and nodejs_* metrics of this process */
  processMetrics?: boolean;
  now?: () => number;
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly hubble: HubbleFlowMetrics;
  private readonly handshakes: HandshakeMetrics;
  private lostSeen = { kernelRing: 0, observerQueue: 0 };

  constructor(
    private readonly source: NodeMetricsSource,
    options: NodeMetricsOptions,
  ) {
    this.hubble = new HubbleFlowMetrics(parseHubbleMetrics(options.hubbleMetrics), this.registry);
    registerWireguardMetrics(this.registry, source);
    registerStateMetrics(this.registry, source);
    this.handshakes = new HandshakeMetrics(this.registry, options.now);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  observeFlow(flow: Flow): void {
    this.hubble.observe(flow);
  }

  /** The live path's flow record; `flow` builds its message when the metrics need one. */
  observeFlowRecord(record: FlowRecord, flow: () => Flow): void {
    this.hubble.observeRecord(record, flow);
  }

  observeHandshake(h: HandshakeRecord): void {
    this.handshakes.observe(h);
  }

  /** A pod is gone: its series (where the context names pods) go after Cilium's one-minute grace. */
  podDeleted(namespace: string, pod: string): void {
    this.hubble.podDeleted(namespace, pod);
  }

  removePodSeriesNow(namespace: string, pod: string): number {
    return this.hubble.removePodNow(namespace, pod);
  }

  /** The text exposition (Prometheus 0.0.4 format). */
  async scrape(): Promise<{ contentType: string; body: string }> {
    await this.source.refresh?.();
    this.syncHubbleLost();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * hubble_lost_events_total counts increments of its sources; the agent keeps running totals,
   * so the difference since the last scrape is added (a total that went down was a restart).
   */
  private syncHubbleLost(): void {
    const lost = this.hubble.lostEvents;
    if (!lost) return;
    const now = this.source.ring().lost;
    const add = (label: string, total: number, seen: number) => {
      const delta = total >= seen ? total - seen : total;
      if (delta > 0) lost.inc({ source: label }, delta);
      return total;
    };
    this.lostSeen = {
      kernelRing: add('perf_event_ring_buffer', now.kernelRing, this.lostSeen.kernelRing),
      observerQueue: add('observer_events_queue', now.observerQueue, this.lostSeen.observerQueue),
    };
  }

  stop(): void {
    this.hubble.stop();
  }
}
