export * from './table.js';
export * from './build.js';
export * from './paths.js';
export * from './queries.js';
