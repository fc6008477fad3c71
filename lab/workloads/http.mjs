import { request } from 'node:http';
import { resolveHost } from './common.mjs';

/** GET through a fresh connection each time (every request is a new flow), host resolved via DNS. */
export async function httpGet(url, timeoutMs = 2000) {
  const target = new URL(url);
  const address = await resolveHost(target.hostname);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: target.port || 80,
        path: `${target.pathname}${target.search}`,
        agent: false,
        timeout: timeoutMs,
        headers: { host: target.host },
      },
      (res) => {
        let size = 0;
        res.on('data', (chunk) => (size += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: size }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
