import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { defaultFlowCapacity, flowCapacityProblem, serverTlsFromFlags } from '@wirescope/observer';
import { DEFAULT_HUBBLE_METRICS, MetricsError, parseHubbleMetrics } from '@wirescope/metrics';
import { AgentError, AgentErrorCode } from './errors.js';
import { isDnsSubdomain, parseCidr, parseIPv4 } from './net.js';

export type WireguardMechanism = 'auto' | 'kernel' | 'wireguard-go';

export interface AgentConfig {
  nodeName: string;
  underlayIP: string;
  podCIDR: string;
  etcdEndpoints: string[];
  stateDir: string;
  apiSocket: string;
  wireguard: {
    interfaceName: string;
    listenPort: number;
    mtu: number;
    mechanism: WireguardMechanism;
    /** Seconds; 0 disables. Non-zero also makes peers handshake as soon as they are programmed. */
    persistentKeepalive: number;
  };
  metrics: {
    /** Prometheus endpoint (Hubble's --hubble-metrics-server), ":9965" or host:port; "" disables. */
    listen: string;
    /** Cilium's --hubble-metrics syntax: the Hubble flow metrics and their context labels. */
    hubbleMetrics: string;
  };
  leaseTTLSeconds: number;
  /** How long a node whose agent is gone keeps its peer (stale) before this agent drops it. */
  nodeGracePeriodSeconds: number;
  resyncIntervalSeconds: number;
  datapath: {
    /** bpf: load the eBPF encryption datapath and flow probes; off: WireGuard with routes only. */
    mode: 'bpf' | 'off';
    /** Drop cross-node pod traffic that would leave unencrypted (reason 195). */
    strict: boolean;
    /** Cilium's --policy-audit-mode: would-be policy denies pass and are reported AUDIT. */
    policyAuditMode: boolean;
    aggregationSeconds: number;
    /**
     * Most ms the flow-event reader waits to gather records into one batch (--event-batch-wait):
     * one loop wake-up per record cost more than the records themselves at a few thousand flows/s.
     */
    eventBatchWaitMs: number;
    /** How tc programs attach (--tc-attach): TCX links where the kernel has them, or cls_bpf filters. */
    tcAttach: 'auto' | 'tcx' | 'filter';
    /** The bpffs the agent mounts when missing and pins in (--bpf-root, Cilium's flag). */
    bpfRoot: string;
    /** Flows the node's observer keeps (--flow-buffer-capacity, 2^n - 1). */
    flowRingCapacity: number;
    /** Hubble Observer/Peer gRPC listen addresses (host:port, unix:///path); empty: not served. */
    hubbleListen: string[];
    /** TLS (mutual with a client CA) on the TCP listen addresses; unix sockets stay plain, as in Hubble. */
    hubbleTls?: { cert: string; key: string; clientCa?: string | undefined } | undefined;
  };
}

export const AGENT_USAGE = `usage: wirescope-agent --node-name NAME --underlay-ip IP --pod-cidr CIDR --etcd-endpoints URL[,URL]
  [--state-dir DIR] [--api-socket PATH] [--wg-interface NAME] [--wg-port PORT] [--wg-mtu MTU]
  [--wg-mechanism auto|kernel|wireguard-go] [--wg-keepalive SECONDS] [--lease-ttl SECONDS]
  [--node-grace-period SECONDS]
  [--resync-interval SECONDS] [--datapath bpf|off] [--strict-encryption] [--policy-audit-mode]
  [--tc-attach auto|tcx|filter] [--bpf-root DIR]
  [--aggregation-interval SECONDS] [--event-batch-wait MS] [--flow-buffer-capacity 2^n-1] [--hubble-listen ADDR[,ADDR]]
  [--hubble-tls-cert FILE --hubble-tls-key FILE [--hubble-tls-client-ca FILE]]
  [--hubble-metrics-server [HOST]:PORT|""] [--hubble-metrics "flow drop tcp:sourceContext=pod …"]`;

const options = {
  'node-name': { type: 'string' },
  'underlay-ip': { type: 'string' },
  'pod-cidr': { type: 'string' },
  'etcd-endpoints': { type: 'string' },
  'state-dir': { type: 'string' },
  'api-socket': { type: 'string' },
  'wg-interface': { type: 'string' },
  'wg-port': { type: 'string' },
  'wg-mtu': { type: 'string' },
  'wg-mechanism': { type: 'string' },
  'wg-keepalive': { type: 'string' },
  'lease-ttl': { type: 'string' },
  'node-grace-period': { type: 'string' },
  'resync-interval': { type: 'string' },
  datapath: { type: 'string' },
  'tc-attach': { type: 'string' },
  'bpf-root': { type: 'string' },
  'strict-encryption': { type: 'boolean' },
  'policy-audit-mode': { type: 'boolean' },
  'aggregation-interval': { type: 'string' },
  'event-batch-wait': { type: 'string' },
  'flow-buffer-capacity': { type: 'string' },
  'hubble-listen': { type: 'string' },
  'hubble-tls-cert': { type: 'string' },
  'hubble-tls-key': { type: 'string' },
  'hubble-tls-client-ca': { type: 'string' },
  'hubble-metrics-server': { type: 'string' },
  'hubble-metrics': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function invalid(message: string): AgentError {
  return new AgentError(AgentErrorCode.INVALID_FLAG, message);
}

function integerFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalid(`--${name} "${raw}" is not valid; accepted: an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

function required(name: string, raw: string | undefined, accepted: string): string {
  if (raw === undefined || raw === '') throw invalid(`--${name} is required; accepted: ${accepted}`);
  return raw;
}

/** Parses and validates the agent's flags; throws AgentError(INVALID_FLAG) with a one-line reason. */
export function parseAgentFlags(argv: string[]): AgentConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw invalid(
      `${reason}; accepted flags: ${Object.keys(options)
        .map((o) => `--${o}`)
        .join(' ')}`,
    );
  }
  if (values.help === true) return 'help';
  const str = (name: keyof typeof options): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };

  const nodeNames =
    'a DNS-1123 subdomain like a Kubernetes node name (lower-case letters, digits, "-" and ".", up to 253)';
  const nodeName = required('node-name', str('node-name'), nodeNames);
  if (!isDnsSubdomain(nodeName))
    throw invalid(`--node-name "${nodeName}" is not valid; accepted: ${nodeNames}`);
  const underlayIP = required('underlay-ip', str('underlay-ip'), 'an IPv4 address such as 10.77.0.11');
  if (parseIPv4(underlayIP) === undefined) {
    throw invalid(`--underlay-ip "${underlayIP}" is not valid; accepted: an IPv4 address such as 10.77.0.11`);
  }
  const podCIDR = required('pod-cidr', str('pod-cidr'), 'an IPv4 CIDR such as 10.244.1.0/24');
  const cidr = parseCidr(podCIDR);
  if (!cidr || cidr.prefixLength < 8 || cidr.prefixLength > 30) {
    throw invalid(
      `--pod-cidr "${podCIDR}" is not valid; accepted: an IPv4 network /8../30 with no host bits, such as 10.244.1.0/24`,
    );
  }
  const endpointsRaw = required(
    'etcd-endpoints',
    str('etcd-endpoints'),
    'comma-separated http://host:port URLs',
  );
  const etcdEndpoints = endpointsRaw.split(',').map((e) => e.trim());
  for (const endpoint of etcdEndpoints) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.port) {
      throw invalid(
        `--etcd-endpoints entry "${endpoint}" is not valid; accepted: http://host:port or https://host:port`,
      );
    }
  }
  const stateDir = str('state-dir') ?? '/var/lib/wirescope/agent';
  const apiSocket = str('api-socket') ?? join(stateDir, 'agent.sock');
  const interfaceName = str('wg-interface') ?? 'wirescope-wg0';
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(interfaceName)) {
    throw invalid(
      `--wg-interface "${interfaceName}" is not valid; accepted: 1 to 15 of letters, digits, "_", "." and "-"`,
    );
  }
  const mechanism = str('wg-mechanism') ?? 'auto';
  if (mechanism !== 'auto' && mechanism !== 'kernel' && mechanism !== 'wireguard-go') {
    throw invalid(`--wg-mechanism "${mechanism}" is not valid; accepted: auto, kernel, wireguard-go`);
  }
  const datapathMode = str('datapath') ?? 'off';
  if (datapathMode !== 'bpf' && datapathMode !== 'off') {
    throw invalid(`--datapath "${datapathMode}" is not valid; accepted: bpf, off`);
  }
  const tcAttach = str('tc-attach') ?? 'auto';
  if (tcAttach !== 'auto' && tcAttach !== 'tcx' && tcAttach !== 'filter') {
    throw invalid(`--tc-attach "${tcAttach}" is not valid; accepted: auto, tcx, filter`);
  }
  const bpfRoot = str('bpf-root') ?? '/sys/fs/bpf';
  if (!bpfRoot.startsWith('/'))
    throw invalid(`--bpf-root "${bpfRoot}" is not valid; it must be an absolute path`);
  // Hubble's --hubble-event-buffer-capacity rule (2^n - 1); the default keeps 16x Hubble's 4,095
  const flowRingCapacity = Number(str('flow-buffer-capacity') ?? defaultFlowCapacity);
  const capacityProblem = /^\d+$/.test(str('flow-buffer-capacity') ?? '0')
    ? flowCapacityProblem(flowRingCapacity)
    : `${str('flow-buffer-capacity')} is not an integer`;
  if (capacityProblem) throw invalid(`--flow-buffer-capacity: ${capacityProblem}`);
  const hubbleListen = (str('hubble-listen') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  for (const address of hubbleListen) {
    const tcp = /^[A-Za-z0-9.:[\]-]+:(\d{1,5})$/.exec(address);
    const unix = /^unix:\/\/\/\S+$/.test(address);
    if (!unix && (!tcp || Number(tcp[1]) > 65535)) {
      throw invalid(
        `--hubble-listen entry "${address}" is not valid; accepted: host:port or unix:///absolute/path`,
      );
    }
  }
  const hubbleTls = serverTlsFromFlags(
    { cert: str('hubble-tls-cert'), key: str('hubble-tls-key'), clientCa: str('hubble-tls-client-ca') },
    { cert: '--hubble-tls-cert', key: '--hubble-tls-key', clientCa: '--hubble-tls-client-ca' },
    invalid,
  );
  const metricsListen = str('hubble-metrics-server') ?? ':9965';
  const metricsPort = /^(|[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(metricsListen);
  if (
    metricsListen !== '' &&
    (!metricsPort || Number(metricsPort[2]) < 1 || Number(metricsPort[2]) > 65535)
  ) {
    throw invalid(
      `--hubble-metrics-server "${metricsListen}" is not valid; accepted: :PORT, HOST:PORT, [IPv6]:PORT, or "" (off)`,
    );
  }
  const hubbleMetrics = str('hubble-metrics') ?? DEFAULT_HUBBLE_METRICS;
  try {
    parseHubbleMetrics(hubbleMetrics);
  } catch (err) {
    if (err instanceof MetricsError) throw invalid(`--hubble-metrics: ${err.message}`);
    throw err;
  }
  return {
    metrics: { listen: metricsListen, hubbleMetrics },
    datapath: {
      hubbleListen,
      ...(hubbleTls ? { hubbleTls } : {}),
      mode: datapathMode,
      tcAttach,
      bpfRoot,
      strict: values['strict-encryption'] === true,
      policyAuditMode: values['policy-audit-mode'] === true,
      aggregationSeconds: integerFlag('aggregation-interval', str('aggregation-interval'), 5, 1, 3600),
      eventBatchWaitMs: integerFlag('event-batch-wait', str('event-batch-wait'), 10, 0, 1000),
      flowRingCapacity,
    },
    nodeName,
    underlayIP,
    podCIDR,
    etcdEndpoints,
    stateDir,
    apiSocket,
    wireguard: {
      interfaceName,
      listenPort: integerFlag('wg-port', str('wg-port'), 51871, 1, 65535),
      mtu: integerFlag('wg-mtu', str('wg-mtu'), 1420, 1280, 9000),
      mechanism,
      persistentKeepalive: integerFlag('wg-keepalive', str('wg-keepalive'), 25, 0, 65535),
    },
    leaseTTLSeconds: integerFlag('lease-ttl', str('lease-ttl'), 15, 5, 300),
    nodeGracePeriodSeconds: integerFlag('node-grace-period', str('node-grace-period'), 600, 0, 7 * 86400),
    resyncIntervalSeconds: integerFlag('resync-interval', str('resync-interval'), 5, 1, 300),
  };
}
