/**
 * The agent's Prometheus endpoint (Hubble's --hubble-metrics-server, :9965): GET /metrics in the
 * text exposition format, served by its own fastify app on TCP, apart from the local API's socket.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { NodeMetrics } from '@wirescope/metrics';

export const metricsPlugin: FastifyPluginAsyncTypebox<{ metrics: NodeMetrics }> = async (
  app,
  { metrics },
) => {
  app.get(
    '/metrics',
    {
      schema: { response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }) } },
    },
    async (_request, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    },
  );
};

export function buildMetricsApp(metrics: NodeMetrics): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true }).withTypeProvider<TypeBoxTypeProvider>();
  void app.register(metricsPlugin, { metrics });
  return app;
}

/** ":9965" (every address) or "host:port" -> fastify's listen options. */
export function metricsListenOptions(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(address.slice(colon + 1)) };
}
