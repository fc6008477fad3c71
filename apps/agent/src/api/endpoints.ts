import type { Route } from './app.js';

export interface EndpointSource {
  endpoints(): Promise<unknown>;
}

export function endpointRoutes(source: EndpointSource): Route[] {
  return [{ method: 'GET', path: '/v1/endpoints', handle: () => source.endpoints() }];
}
