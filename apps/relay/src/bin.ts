#!/usr/bin/env node
// wirescope-relay: the cluster-wide Observer API on :4245.
import { ConfigError, parseRelayArgs } from './config.js';
import { PeerManager } from './peers.js';
import { Relay } from './relay.js';
import { RelayServer } from './server.js';
import { startMetricsServer } from './metrics.js';

// Bigger pools for Buffer.allocUnsafe: grpc-js allocates one small buffer per message.
Buffer.poolSize = 256 * 1024;

async function main(): Promise<void> {
  const config = parseRelayArgs(process.argv.slice(2));
  const peers = new PeerManager({ tls: config.peerTls });
  for (const p of config.staticPeers) peers.upsert(p);
  if (config.peerService) peers.discover(config.peerService, config.peerTls);
  peers.on('state', (peer, state, message) => {
    console.error(`relay: ${peer.name} (${peer.config.address}) ${state}${message ? `: ${message}` : ''}`);
  });
  const relay = new Relay(peers, { windowMs: config.windowMs });
  // The unix socket is local (its file mode guards it), so it stays plain, as Hubble's does; TLS is for TCP.
  const unix = config.listen.filter((a) => a.startsWith('unix://'));
  const tcp = config.listen.filter((a) => !a.startsWith('unix://'));
  const servers =
    config.tls && unix.length > 0
      ? [new RelayServer({ relay, listen: tcp, tls: config.tls }), new RelayServer({ relay, listen: unix })]
      : [new RelayServer({ relay, listen: config.listen, tls: config.tls })];
  const addresses: string[] = [];
  for (const server of servers) addresses.push(...(await server.start()));
  console.error(`relay: serving on ${addresses.join(', ')}`);
  const metrics = config.metricsListen
    ? await startMetricsServer(
        peers,
        {
          listen: config.metricsListen,
          agentMetricsPort: config.agentMetricsPort,
        },
        () => relay.traffic,
      )
    : undefined;
  if (metrics) console.error(`relay: metrics on ${config.metricsListen}`);
  const stop = () => {
    metrics?.close();
    peers.close();
    Promise.all(servers.map((s) => s.stop(500))).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(
    `wirescope-relay: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(2);
});
