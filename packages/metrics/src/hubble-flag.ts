/**
 * Cilium's `--hubble-metrics` syntax: plugins separated by spaces, each
 * `name[:option[=v1,v2,…][;option…]]`, e.g.
 * `flow:sourceContext=pod;destinationContext=pod drop tcp icmp port-distribution flows-to-world:port`.
 */
import { CONTEXT_OPTION_NAMES, ContextLabels } from './context.js';
import { MetricsError, MetricsErrorCode } from './errors.js';

export const HUBBLE_PLUGINS = [
  'flow',
  'drop',
  'tcp',
  'icmp',
  'port-distribution',
  'flows-to-world',
  'policy',
] as const;
export type HubblePlugin = (typeof HUBBLE_PLUGINS)[number];

/** Plugins of Cilium that read L7 (proxy) records, which Wirescope's datapath does not produce. */
const L7_PLUGINS = ['dns', 'http', 'httpV2', 'kafka'];

/** Options of a plugin besides the context options. */
const PLUGIN_OPTIONS: Record<HubblePlugin, string[]> = {
  flow: [],
  drop: [],
  tcp: [],
  icmp: [],
  'port-distribution': [],
  'flows-to-world': ['any-drop', 'port', 'syn-only'],
  policy: [],
};

export interface HubbleMetricSpec {
  plugin: HubblePlugin;
  /** context options (sourceContext, labelsContext, …) -> their values */
  context: Map<string, string[]>;
  /** the plugin's own flags (flows-to-world: any-drop, port, syn-only) */
  flags: Set<string>;
}

/** What the agent enables when --hubble-metrics is not given (Cilium's Helm example set, plus policy verdicts). */
export const DEFAULT_HUBBLE_METRICS = 'flow drop tcp icmp port-distribution flows-to-world policy';

function invalid(message: string): MetricsError {
  return new MetricsError(MetricsErrorCode.INVALID_METRICS_FLAG, message);
}

export function parseHubbleMetrics(text: string): HubbleMetricSpec[] {
  const specs: HubbleMetricSpec[] = [];
  for (const entry of text.split(/\s+/).filter((e) => e !== '')) {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? entry : entry.slice(0, colon);
    if (L7_PLUGINS.includes(name)) {
      throw new MetricsError(
        MetricsErrorCode.UNSUPPORTED_PLUGIN,
        `hubble metric "${name}" needs L7 (proxy) records, which Wirescope does not produce; accepted: ${HUBBLE_PLUGINS.join(', ')}`,
      );
    }
    if (!(HUBBLE_PLUGINS as readonly string[]).includes(name)) {
      throw invalid(`unknown hubble metric "${name}"; accepted: ${HUBBLE_PLUGINS.join(', ')}`);
    }
    const plugin = name as HubblePlugin;
    if (specs.some((s) => s.plugin === plugin)) throw invalid(`hubble metric "${plugin}" is listed twice`);
    const spec: HubbleMetricSpec = { plugin, context: new Map(), flags: new Set() };
    const rest = colon < 0 ? '' : entry.slice(colon + 1);
    for (const option of rest.split(';').filter((o) => o !== '')) {
      const eq = option.indexOf('=');
      const key = eq < 0 ? option : option.slice(0, eq);
      if (CONTEXT_OPTION_NAMES.includes(key)) {
        const values =
          eq < 0
            ? []
            : option
                .slice(eq + 1)
                .split(',')
                .filter((v) => v !== '');
        if (values.length === 0) throw invalid(`hubble metric "${plugin}": ${key} needs a value (${key}=…)`);
        spec.context.set(key, values);
      } else if (PLUGIN_OPTIONS[plugin].includes(key) && eq < 0) {
        spec.flags.add(key);
      } else {
        const accepted = [...CONTEXT_OPTION_NAMES, ...PLUGIN_OPTIONS[plugin]].join(', ');
        throw invalid(`hubble metric "${plugin}": unknown option "${option}"; accepted: ${accepted}`);
      }
    }
    new ContextLabels(spec.context); // refuses bad context values here, naming what is accepted
    specs.push(spec);
  }
  return specs;
}
