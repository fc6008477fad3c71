// The relay's Prometheus endpoint (Hubble Relay's --metrics-listen-address, :9966): /metrics,
// and /v1/prometheus/targets, the agents it learnt from the cluster as http_sd_configs targets.
import { createServer, type Server } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { RelayMetrics, type PeerConnectionStatus, type RelayPeerSnapshot } from '@wirescope/metrics';
import type { PeerManager } from './peers.js';
import type { RelayTraffic } from './relay.js';

/** Each peer's grpc channel state by Cilium's names; a peer between connections has none. */
export function peerSnapshots(peers: PeerManager): RelayPeerSnapshot[] {
  return [...peers.peers.values()].map((p) => {
    let status: PeerConnectionStatus = 'NIL_CONNECTION';
    if (p.client) {
      const state = p.client.getChannel().getConnectivityState(false);
      status = (grpc.connectivityState[state] as PeerConnectionStatus | undefined) ?? 'NIL_CONNECTION';
    }
    return { name: p.name, address: p.config.address, status };
  });
}

export interface MetricsServerOptions {
  /** ":9966" or host:port */
  listen: string;
  /** the port agents serve their metrics on, for the discovered targets */
  agentMetricsPort: number;
}

export async function startMetricsServer(
  peers: PeerManager,
  options: MetricsServerOptions,
  traffic?: () => RelayTraffic,
): Promise<Server> {
  const metrics = new RelayMetrics(
    { peers: () => peerSnapshots(peers), ...(traffic ? { traffic } : {}) },
    { processMetrics: true },
  );
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end('only GET\n');
    } else if (path === '/metrics') {
      metrics.scrape().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(`${(err as Error).message}\n`),
      );
    } else if (path === '/v1/prometheus/targets') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(metrics.targets(options.agentMetricsPort)));
    } else {
      res.writeHead(404).end('not found: GET /metrics or /v1/prometheus/targets\n');
    }
  });
  const colon = options.listen.lastIndexOf(':');
  const host = options.listen.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(options.listen.slice(colon + 1)), host, () => resolve());
  });
  return server;
}
