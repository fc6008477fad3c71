// REST calls to the UI server. Every failure becomes an ApiError carrying the server's code and
// message (a bad filter's message is shown inline under the filter bar).
import type {
  ChartResponse,
  EncryptionResponse,
  FlowResponse,
  FlowsResponse,
  NamespacesResponse,
  StatusResponse,
} from '../../server/index.js';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | readonly string[] | undefined>;

export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function getJson<T>(path: string, query: Query = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${path}${queryString(query)}`);
  } catch (err) {
    throw new ApiError('UNREACHABLE', `the UI server did not answer: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as
    { error?: { code: string; message: string } } | undefined;
  if (!res.ok)
    throw new ApiError(body?.error?.code ?? String(res.status), body?.error?.message ?? res.statusText);
  return body as T;
}

export interface HistoryQuery {
  filters: readonly string[];
  since?: string | undefined;
  until?: string | undefined;
  limit?: number | undefined;
}

const historyParams = (q: HistoryQuery): Query => ({
  filter: q.filters,
  since: q.since,
  until: q.until,
  limit: q.limit,
});

export const api = {
  status: () => getJson<StatusResponse>('/api/status'),
  namespaces: () => getJson<NamespacesResponse>('/api/namespaces'),
  encryption: () => getJson<EncryptionResponse>('/api/encryption'),
  flows: (q: HistoryQuery) => getJson<FlowsResponse>('/api/flows', historyParams(q)),
  flow: (uuid: string) => getJson<FlowResponse>(`/api/flow/${encodeURIComponent(uuid)}`),
  chart: (id: string, range: string) =>
    getJson<ChartResponse>(`/api/metrics/${encodeURIComponent(id)}`, { range }),
  exportUrl: (q: HistoryQuery, format: 'jsonl' | 'csv') =>
    `/api/flows/export${queryString({ ...historyParams(q), format })}`,
};
