/** Why a metrics configuration was refused. */
export const MetricsErrorCode = {
  /** --hubble-metrics: an unknown plugin, option or context value. */
  INVALID_METRICS_FLAG: 'INVALID_METRICS_FLAG',
  /** a plugin Cilium has that needs data Wirescope does not produce (L7). */
  UNSUPPORTED_PLUGIN: 'UNSUPPORTED_PLUGIN',
} as const;
export type MetricsErrorCode = (typeof MetricsErrorCode)[keyof typeof MetricsErrorCode];

export class MetricsError extends Error {
  constructor(
    readonly code: MetricsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MetricsError';
  }
}
