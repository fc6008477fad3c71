export * from './errors.js';
export * from './fieldmask.js';
export * from './handshakes.js';
export * from './health.js';
export * from './observer.js';
export * from './peers.js';
export * from './listen.js';
export * from './ring.js';
export * from './server.js';
export * from './services.js';
export * from './sinks.js';
export * from './tls.js';
// test helpers (clients, a throwaway PKI) live on their own subpath: @wirescope/observer/testing
