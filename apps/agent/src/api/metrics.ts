import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ERROR_RESPONSES } from './errors.js';

/** Whether every observed flow and handshake feeds the Prometheus metrics (on unless turned off). */
export const FlowMetricsResponseSchema = Type.Object({ node: Type.String(), enabled: Type.Boolean() });
export type FlowMetricsResponse = Static<typeof FlowMetricsResponseSchema>;
export const FlowMetricsRequestSchema = Type.Object(
  { enabled: Type.Boolean() },
  { additionalProperties: false },
);
export type FlowMetricsRequest = Static<typeof FlowMetricsRequestSchema>;

export interface MetricsControlSource {
  flowMetrics(): FlowMetricsResponse;
  /** bench:live's metrics-off pass: the flow hook unregistered, /metrics still served. */
  setFlowMetrics(enabled: boolean): FlowMetricsResponse;
}

/** GET, POST /v1/metrics/flows */
export const metricsControlPlugin: FastifyPluginAsyncTypebox<{ source: MetricsControlSource }> = async (
  app,
  { source },
) => {
  app.get(
    '/v1/metrics/flows',
    { schema: { response: { 200: FlowMetricsResponseSchema, ...ERROR_RESPONSES } } },
    () => source.flowMetrics(),
  );
  app.post(
    '/v1/metrics/flows',
    {
      schema: {
        body: FlowMetricsRequestSchema,
        response: { 200: FlowMetricsResponseSchema, ...ERROR_RESPONSES },
      },
    },
    (request) => source.setFlowMetrics(request.body.enabled),
  );
};
