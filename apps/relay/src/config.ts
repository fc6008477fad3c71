// Command-line configuration of wirescope-relay. Bad flags fail with one line naming the flag.
import { parseArgs } from 'node:util';
import {
  clientTlsFromFlags,
  serverTlsFromFlags,
  type ClientTlsFiles,
  type ServerTlsFiles,
} from '@wirescope/observer';
import type { PeerConfig } from './peers.js';

export interface RelayConfig {
  listen: string[];
  /** Agents whose Peer.Notify lists the agents; tried in turn when one fails. */
  peerService?: string[] | undefined;
  staticPeers: PeerConfig[];
  tls?: ServerTlsFiles | undefined;
  peerTls?: ClientTlsFiles | undefined;
  windowMs: number;
  /** Prometheus endpoint (Hubble Relay's --metrics-listen-address); '' (the default) turns it off. */
  metricsListen: string;
  /** Port of the agents' /metrics, for the targets the relay discovers for Prometheus. */
  agentMetricsPort: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const relayUsage = `usage: wirescope-relay [flags]
  --listen-address ADDR      TCP address to serve on (default 127.0.0.1:4245)
  --unix-socket PATH         also serve on this unix socket
  --peer-service ADDR[,ADDR] agents whose Peer.Notify lists the agents (tried in turn)
  --static-peers LIST        name=host:port,... instead of (or besides) discovery
  --tls-cert FILE --tls-key FILE [--tls-client-ca FILE]   TLS (mutual with a client CA) toward clients
  --peer-tls-ca FILE [--peer-tls-cert FILE --peer-tls-key FILE] [--peer-tls-server-name NAME]
                             TLS (mutual with a client certificate) toward agents
  --merge-window-ms N        follow-mode merge window (default 20)
  --metrics-listen-address [HOST]:PORT   serve /metrics and Prometheus targets (e.g. :9966; default off)
  --agent-metrics-port N     port of the agents' /metrics in the targets (default 9965)`;

export function parseRelayArgs(argv: string[]): RelayConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'listen-address': { type: 'string', default: '127.0.0.1:4245' },
        'unix-socket': { type: 'string' },
        'peer-service': { type: 'string' },
        'static-peers': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        'peer-tls-ca': { type: 'string' },
        'peer-tls-cert': { type: 'string' },
        'peer-tls-key': { type: 'string' },
        'peer-tls-server-name': { type: 'string' },
        'merge-window-ms': { type: 'string', default: '20' },
        'metrics-listen-address': { type: 'string', default: '' },
        'agent-metrics-port': { type: 'string', default: '9965' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split('\n')[0]} (see --help)`);
  }
  if (values.help) throw new ConfigError(relayUsage);
  const staticPeers: PeerConfig[] = [];
  for (const item of (values['static-peers'] ?? '').split(',').filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1)
      throw new ConfigError(`--static-peers: "${item}" is not name=host:port`);
    staticPeers.push({ name: item.slice(0, eq), address: item.slice(eq + 1) });
  }
  if (!values['peer-service'] && staticPeers.length === 0) {
    throw new ConfigError(
      'no agents to relay: give --peer-service ADDR (discovery through Peer.Notify) or --static-peers name=host:port,...',
    );
  }
  const windowMs = Number(values['merge-window-ms']);
  if (!Number.isFinite(windowMs) || windowMs < 0 || windowMs > 10_000) {
    throw new ConfigError(
      `--merge-window-ms: "${values['merge-window-ms']}" is not a number of milliseconds in 0-10000`,
    );
  }
  const metricsListen = values['metrics-listen-address'] ?? '';
  const metricsPort = /^(|[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(metricsListen);
  if (metricsListen !== '' && (!metricsPort || Number(metricsPort[2]) < 1 || Number(metricsPort[2]) > 65535))
    throw new ConfigError(
      `--metrics-listen-address: "${metricsListen}" is not :PORT, HOST:PORT or [IPv6]:PORT (port 1-65535)`,
    );
  const agentMetricsPort = Number(values['agent-metrics-port']);
  if (!/^\d+$/.test(values['agent-metrics-port'] ?? '') || agentMetricsPort < 1 || agentMetricsPort > 65535)
    throw new ConfigError(`--agent-metrics-port: "${values['agent-metrics-port']}" is not a port (1-65535)`);
  const invalid = (message: string) => new ConfigError(message);
  const tls = serverTlsFromFlags(
    { cert: values['tls-cert'], key: values['tls-key'], clientCa: values['tls-client-ca'] },
    { cert: '--tls-cert', key: '--tls-key', clientCa: '--tls-client-ca' },
    invalid,
  );
  const peerTls = clientTlsFromFlags(
    {
      ca: values['peer-tls-ca'],
      cert: values['peer-tls-cert'],
      key: values['peer-tls-key'],
      serverName: values['peer-tls-server-name'],
    },
    {
      ca: '--peer-tls-ca',
      cert: '--peer-tls-cert',
      key: '--peer-tls-key',
      serverName: '--peer-tls-server-name',
    },
    invalid,
  );
  const listen = [values['listen-address']!];
  if (values['unix-socket']) listen.push(`unix://${values['unix-socket']}`);
  return {
    listen,
    peerService: values['peer-service']
      ?.split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    staticPeers,
    tls,
    peerTls,
    windowMs,
    metricsListen,
    agentMetricsPort,
  };
}
