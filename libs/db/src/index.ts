export * from './client.js';
export * from './process-once.js';
export * from './migrations/index.js';
export * from './pg-pool.js';
