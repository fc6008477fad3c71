import { request } from 'node:http';
import type { AttachRequest, AttachResponse, DatapathStatusResponse } from './datapath.js';
import type { FlowCountersResponse, StrictRequest, StrictResponse } from './datapath.js';
import type { EncryptStatusResponse, RotateKeyResponse } from './encrypt.js';
import type { EndpointsResponse } from './endpoints.js';
import type { ErrorResponse } from './errors.js';
import type { FlowsResponse, HandshakesResponse, LastQuery } from './flows.js';
import type { HealthResponse } from './health.js';
import type { AuditRequest, AuditResponse, PolicyStatusResponse } from './policy.js';
import type { FlowMetricsRequest, FlowMetricsResponse } from './metrics.js';

/**
 * Every JSON route of the agent's local API: what it takes and what it answers (the schemas in
 * the route plugins are the source; these are their Static types). GET /v1/flows/follow is a
 * stream of FollowLine, read line by line, not through agentRequest.
 */
export interface AgentRoutes {
  'GET /healthz': { response: HealthResponse };
  'GET /v1/encrypt': { response: EncryptStatusResponse };
  'POST /v1/encrypt/rotate-key': { response: RotateKeyResponse };
  'GET /v1/endpoints': { response: EndpointsResponse };
  'GET /v1/flows': { query: LastQuery; response: FlowsResponse };
  'GET /v1/handshakes': { query: LastQuery; response: HandshakesResponse };
  'GET /v1/datapath': { response: DatapathStatusResponse };
  'GET /v1/datapath/flow-counters': { response: FlowCountersResponse };
  'POST /v1/datapath/strict': { body: StrictRequest; response: StrictResponse };
  'POST /v1/datapath/attach': { body: AttachRequest; response: AttachResponse };
  'GET /v1/policy': { response: PolicyStatusResponse };
  'POST /v1/policy/audit': { body: AuditRequest; response: AuditResponse };
  'GET /v1/metrics/flows': { response: FlowMetricsResponse };
  'POST /v1/metrics/flows': { body: FlowMetricsRequest; response: FlowMetricsResponse };
}

type Method = 'GET' | 'POST';
type RouteKey = keyof AgentRoutes;
type PathOf<M extends Method> = { [K in RouteKey]: K extends `${M} ${infer P}` ? P : never }[RouteKey];
/** A route's path, optionally with its query string written in (`/v1/flows?last=5`). */
type PathWithQuery<M extends Method> = PathOf<M> | `${PathOf<M>}?${string}`;
type RouteOf<
  M extends Method,
  P extends string,
> = AgentRoutes[`${M} ${P extends `${infer B}?${string}` ? B : P}` & RouteKey];

export interface AgentRequestOptions<Body = unknown> {
  /** Sent as JSON. */
  body?: Body;
  /** Appended to the path's query string. */
  query?: Record<string, string | number | boolean | undefined>;
  timeoutMs?: number;
}

/** A route that takes a body needs one; the others take none. */
type OptionsFor<R> = R extends { body: infer B }
  ? [options: AgentRequestOptions<B> & { body: B }]
  : [options?: AgentRequestOptions<never>];

/** The agent answered with an error: its message, plus the HTTP status and the agent's error code. */
export class AgentRequestError extends Error {
  override name = 'AgentRequestError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 5000;

function withQuery(path: string, query: AgentRequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined) params.append(name, String(value));
  const text = params.toString();
  if (text === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${text}`;
}

/**
 * Calls the agent's local API over its unix socket, typed by route; rejects with the agent's error
 * message (AgentRequestError), or says that the agent is unreachable or did not answer in time.
 */
export function agentRequest<M extends Method, const P extends PathWithQuery<M>>(
  socketPath: string,
  method: M,
  path: P,
  ...options: OptionsFor<RouteOf<M, P>>
): Promise<RouteOf<M, P>['response']>;
/**
 * For GET callers that read a part of an answer under their own narrower type, given explicitly
 * (`agentRequest<{ peers: … }>(socket, 'GET', '/v1/encrypt')`); without one (T stays never) this
 * signature takes no path, so that calls resolve to the typed one above. A POST always goes
 * through its route's types.
 */
export function agentRequest<T = never>(
  socketPath: string,
  method: 'GET',
  path: [T] extends [never] ? never : PathWithQuery<'GET'>,
  options?: AgentRequestOptions<never>,
): Promise<T>;
export function agentRequest(
  socketPath: string,
  method: Method,
  path: string,
  options: AgentRequestOptions = {},
): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> =
    payload === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, method, path: withQuery(path, options.query), headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 500;
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(new Error(`agent at ${socketPath} answered ${status} with non-JSON`));
            return;
          }
          if (status >= 400) {
            const error = (body as Partial<ErrorResponse>).error;
            reject(new AgentRequestError(error?.message ?? `HTTP ${status}`, status, error?.code));
          } else {
            resolve(body);
          }
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`agent at ${socketPath} did not answer within ${timeoutMs} ms`)),
    );
    req.on('error', (err) => reject(new Error(`agent at ${socketPath} unreachable: ${err.message}`)));
    req.end(payload);
  });
}

/**
 * Calls onLine with each complete line of a text stream (the follow route's NDJSON), keeping a
 * partial line until its newline arrives.
 */
export function onLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      onLine(line);
    }
  });
}
