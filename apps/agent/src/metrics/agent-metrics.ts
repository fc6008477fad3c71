/**
 * The agent's metrics, started and stopped as one: the registry, its source, the observer hook
 * that feeds it every flow and handshake, the deleted-pod cleanup and the :9965 server.
 */
import type { FastifyInstance } from 'fastify';
import { NodeMetrics } from '@wirescope/metrics';
import type { FlowObserver } from '../flows/observer.js';
import type { EndpointRecord } from '../store/types.js';
import { AgentMetricsSource, type AgentMetricsInputs } from './source.js';
import { buildMetricsApp, metricsListenOptions } from './server.js';

export class AgentMetrics {
  readonly metrics: NodeMetrics;
  private app: FastifyInstance | undefined;
  private unhook: (() => void) | undefined;
  private observer: FlowObserver | undefined;
  private pods = new Set<string>();

  constructor(
    private readonly options: { listen: string; hubbleMetrics: string },
    inputs: AgentMetricsInputs,
    private readonly log: (message: string) => void,
  ) {
    this.metrics = new NodeMetrics(new AgentMetricsSource(inputs), {
      hubbleMetrics: options.hubbleMetrics,
      processMetrics: true,
    });
  }

  /** Serves /metrics; a port that cannot be bound is logged, and the agent runs on without it. */
  async start(observer: FlowObserver | undefined): Promise<void> {
    this.observer = observer;
    this.setFlowMetrics(true);
    if (this.options.listen === '') return;
    const app = buildMetricsApp(this.metrics);
    try {
      await app.listen(metricsListenOptions(this.options.listen));
      this.app = app;
      this.log(`metrics: serving /metrics on ${this.options.listen}`);
    } catch (err) {
      this.log(
        `metrics: cannot listen on ${this.options.listen}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  get flowMetrics(): boolean {
    return this.unhook !== undefined;
  }

  /** Registers (or removes) the observer hook that feeds every flow and handshake into the metrics. */
  setFlowMetrics(enabled: boolean): void {
    if (enabled && !this.unhook && this.observer) {
      this.unhook = this.observer.observer.addHook({
        name: 'metrics',
        onFlow: (entry) => {
          const record = entry.record;
          if (record !== undefined) this.metrics.observeFlowRecord(record, () => entry.flow);
          else this.metrics.observeFlow(entry.flow);
        },
        onHandshake: (handshake) => this.metrics.observeHandshake(handshake),
      });
    } else if (!enabled && this.unhook) {
      this.unhook();
      this.unhook = undefined;
    }
  }

  /** The cluster's endpoints after a sync: series of pods that are gone are removed after a minute. */
  endpoints(list: EndpointRecord[]): void {
    const now = new Set(list.map((e) => `${e.namespace}/${e.pod}`));
    for (const key of this.pods) {
      if (now.has(key)) continue;
      const slash = key.indexOf('/');
      this.metrics.podDeleted(key.slice(0, slash), key.slice(slash + 1));
    }
    this.pods = now;
  }

  async stop(): Promise<void> {
    this.setFlowMetrics(false);
    this.metrics.stop();
    await this.app?.close();
  }
}
