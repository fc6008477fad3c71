// The UI server: fastify, one plugin per feature, TypeBox schemas; the relay is its only source of
// flows and state, Prometheus (optional) of the charts.
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RelayApi } from './relay-client.js';
import type { LiveLimits } from './live-hub.js';
import { installErrorHandler } from './plugins/errors.js';
import { statusPlugin } from './plugins/status.js';
import { namespacesPlugin } from './plugins/namespaces.js';
import { flowsPlugin } from './plugins/flows.js';
import { encryptionPlugin } from './plugins/encryption.js';
import { livePlugin } from './plugins/live.js';
import { metricsPlugin } from './plugins/metrics.js';
import type { PrometheusApi } from './prometheus.js';
import { webPlugin } from './plugins/web.js';

export interface UiAppOptions {
  relay: RelayApi;
  /** The built SPA; without it only the API is served. */
  webDir?: string | undefined;
  live?: LiveLimits | undefined;
  statusIntervalMs?: number | undefined;
  /** The charts' source; without it they answer METRICS_UNAVAILABLE. */
  prometheus?: PrometheusApi | undefined;
  /** The clock of the charts' time ranges (tests). */
  now?: (() => number) | undefined;
}

export async function buildApp(opts: UiAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    // socket.io's long-polling and websocket connections must not hold close() up
    forceCloseConnections: true,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(statusPlugin, { relay: opts.relay });
  await app.register(namespacesPlugin, { relay: opts.relay });
  await app.register(flowsPlugin, { relay: opts.relay });
  await app.register(encryptionPlugin, { relay: opts.relay });
  await app.register(metricsPlugin, { prometheus: opts.prometheus, now: opts.now });
  await app.register(livePlugin, {
    relay: opts.relay,
    limits: opts.live,
    statusIntervalMs: opts.statusIntervalMs,
  });
  if (opts.webDir) await app.register(webPlugin, { webDir: opts.webDir });
  return app;
}
