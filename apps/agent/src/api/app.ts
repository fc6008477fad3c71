import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AgentError, AgentErrorCode } from '../errors.js';

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handle(body: unknown, query: URLSearchParams): Promise<unknown>;
  /** Long-lived responses (follow streams) write to `res` themselves instead of returning. */
  stream?(query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void;
}

const STATUS_OF: Partial<Record<string, number>> = {
  [AgentErrorCode.NOT_FOUND]: 404,
  [AgentErrorCode.BAD_REQUEST]: 400,
  [AgentErrorCode.STORE_UNAVAILABLE]: 503,
};

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new AgentError(AgentErrorCode.BAD_REQUEST, 'request body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** The agent's local API (JSON over a unix socket); each feature module contributes routes. */
export function buildApp(routes: Route[]): Server {
  const table = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const path = url.pathname;
    const route = table.get(`${req.method ?? 'GET'} ${path}`);
    if (!route) {
      send(res, 404, {
        error: {
          code: AgentErrorCode.NOT_FOUND,
          message: `no route ${req.method} ${path}; accepted: ${[...table.keys()].join(', ')}`,
        },
      });
      return;
    }
    if (route.stream) {
      route.stream(url.searchParams, req, res);
      return;
    }
    readJson(req)
      .then((body) => route.handle(body, url.searchParams))
      .then(
        (result) => send(res, 200, result),
        (err: unknown) => {
          const code = err instanceof AgentError ? err.code : AgentErrorCode.COMMAND_FAILED;
          send(res, STATUS_OF[code] ?? 500, {
            error: { code, message: err instanceof Error ? err.message : String(err) },
          });
        },
      );
  });
}
