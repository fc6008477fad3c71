import type { Route } from './app.js';

export interface EncryptSource {
  encryptStatus(): Promise<unknown>;
  rotateKey(): Promise<unknown>;
}

export function encryptRoutes(source: EncryptSource): Route[] {
  return [
    { method: 'GET', path: '/v1/encrypt', handle: () => source.encryptStatus() },
    { method: 'POST', path: '/v1/encrypt/rotate-key', handle: () => source.rotateKey() },
  ];
}
