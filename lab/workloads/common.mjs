// Shared by the lab's workload programs: config from the environment, name resolution through
// the lab's DNS pod (real DNS over UDP 53), and one-line logs.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export const config = JSON.parse(process.env.WSL_WORKLOAD ?? '{}');
export const podName = process.env.WSL_POD ?? 'unknown';

export function log(message) {
  console.log(`${new Date().toISOString()} ${podName} ${message}`);
}

const resolver = new Resolver({ timeout: 1000, tries: 2 });
if (process.env.WSL_DNS_SERVER) resolver.setServers([process.env.WSL_DNS_SERVER]);
const cache = new Map();
// A short cache keeps DNS traffic steady but modest (one query per name every few seconds).
const CACHE_MS = 5000;

export async function resolveHost(host) {
  if (isIP(host)) return host;
  const hit = cache.get(host);
  if (hit && hit.until > Date.now()) return hit.address;
  const [address] = await resolver.resolve4(host);
  if (!address) throw new Error(`no A record for ${host}`);
  cache.set(host, { address, until: Date.now() + CACHE_MS });
  return address;
}

export function onSignals(cleanup) {
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      cleanup();
      process.exit(0);
    });
  }
}
