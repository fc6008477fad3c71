// HTTP server pod: answers every request; with upstreams, calls each of them first (frontend -> api
// -> db). GET /bytes?n=N returns N bytes, for bulk-transfer checks.
import { createServer } from 'node:http';
import { config, log, onSignals, podName } from './common.mjs';
import { httpGet } from './http.mjs';

const upstreams = config.upstreams ?? [];
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://pod');
  if (url.pathname === '/bytes') {
    const n = Math.min(Number(url.searchParams.get('n') ?? '0') || 0, 64 * 1024 * 1024);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
    const chunk = Buffer.alloc(Math.min(n, 65536), 120);
    let left = n;
    const pump = () => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  const calls = await Promise.all(
    upstreams.map((u) =>
      httpGet(u).then(
        (r) => ({ url: u, status: r.status }),
        (err) => ({ url: u, error: err.message }),
      ),
    ),
  );
  const failed = calls.some((c) => c.error || c.status >= 500);
  res.writeHead(failed ? 502 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ pod: podName, path: url.pathname, upstreams: calls }));
});
server.listen(config.port ?? 8080, () => log(`http-server listening on ${config.port ?? 8080}`));
onSignals(() => server.close());
