export * from './errors.js';
export * from './migration-files.js';
export * from './plan.js';
export * from './migrate.js';
export * from './status.js';
