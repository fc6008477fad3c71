import type { Route } from './app.js';

export interface HealthSource {
  health(): Promise<unknown>;
}

export function healthRoutes(source: HealthSource): Route[] {
  return [{ method: 'GET', path: '/healthz', handle: () => source.health() }];
}
