// The built SPA (vite's output): files by path, and index.html for every other GET that is not
// the API, so that each screen's URL (/map, /flows?filter=…) opens the app.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

export const webPlugin: FastifyPluginAsync<{ webDir: string }> = async (app, { webDir }) => {
  const root = normalize(webDir + sep);
  const file = async (path: string): Promise<Buffer | undefined> => {
    const full = normalize(join(root, path));
    if (!full.startsWith(root)) return undefined;
    try {
      if (!(await stat(full)).isFile()) return undefined;
      return await readFile(full);
    } catch {
      return undefined;
    }
  };
  app.get('/*', async (request, reply) => {
    const path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (path.startsWith('/api/')) {
      return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${path}` } });
    }
    const asset = path !== '/' ? await file(path) : undefined;
    if (asset) {
      // vite names assets by content hash: they never change under the same name
      if (path.startsWith('/assets/'))
        void reply.header('cache-control', 'public, max-age=31536000, immutable');
      return reply.type(contentTypes[extname(path)] ?? 'application/octet-stream').send(asset);
    }
    const index = await file('index.html');
    if (!index)
      return reply.code(404).send({
        error: {
          code: 'NOT_FOUND',
          message: `the SPA is not built (${root}index.html): npm run build -w @wirescope/ui`,
        },
      });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  });
};
