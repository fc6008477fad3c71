import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AgentError, AgentErrorCode } from '../errors.js';
import { datapathPlugin, type DatapathSource } from './datapath.js';
import { encryptPlugin, type EncryptSource } from './encrypt.js';
import { endpointsPlugin, type EndpointSource } from './endpoints.js';
import { describeValidationError, installErrorHandlers } from './errors.js';
import { flowsPlugin, type FlowSource } from './flows.js';
import { healthPlugin, type HealthSource } from './health.js';
import { policyPlugin, type PolicySource } from './policy.js';
import { metricsControlPlugin, type MetricsControlSource } from './metrics.js';

/** What the local API serves from: the Agent, or a test double in unit tests. */
export type AgentApiSource = HealthSource &
  EncryptSource &
  EndpointSource &
  FlowSource &
  DatapathSource &
  PolicySource &
  Partial<MetricsControlSource>;

/**
 * The agent's local API (JSON over a unix socket): one plugin per feature, TypeBox schemas on
 * every route. Call `listen({ path })` to serve it, `inject()` to test it.
 */
export function buildApp(source: AgentApiSource): FastifyInstance {
  const app = Fastify({
    logger: false,
    // HEAD on /v1/flows/follow would open a stream nobody reads
    exposeHeadRoutes: false,
    // follow streams never end by themselves: stopping the agent must not wait for their readers
    forceCloseConnections: true,
    // verbose: the failing value and schema, for messages naming the field, the value and what is
    // accepted; no coercion: `{"enabled": "true"}` stays an error, as it was
    ajv: { customOptions: { coerceTypes: false, verbose: true } },
    schemaErrorFormatter: describeValidationError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const routes: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push(`${method} ${route.url}`);
  });
  installErrorHandlers(app, () => routes);

  // Bodies are JSON whatever the content type says (`curl -d` sends form-urlencoded), and an
  // empty body is no body: what the hand-rolled API did, so existing callers keep working.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body).trim();
    if (text === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new AgentError(AgentErrorCode.BAD_REQUEST, 'request body is not JSON'), undefined);
    }
  });
  // Every JSON answer ends in a newline, as before: `curl --unix-socket` output stays line-clean.
  app.addHook('onSend', async (_request, _reply, payload) =>
    typeof payload === 'string' ? `${payload}\n` : payload,
  );

  void app.register(healthPlugin, { source });
  void app.register(encryptPlugin, { source });
  void app.register(endpointsPlugin, { source });
  void app.register(flowsPlugin, { source });
  void app.register(datapathPlugin, { source });
  if (source.flowMetrics && source.setFlowMetrics) {
    const { flowMetrics, setFlowMetrics } = source;
    void app.register(metricsControlPlugin, {
      source: {
        flowMetrics: () => flowMetrics.call(source),
        setFlowMetrics: (e) => setFlowMetrics.call(source, e),
      },
    });
  }
  void app.register(policyPlugin, { source });
  return app;
}
