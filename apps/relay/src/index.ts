export * from './backoff.js';
export * from './merge.js';
export * from './peers.js';
export * from './relay.js';
export * from './server.js';
export * from './config.js';
