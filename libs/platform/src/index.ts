export * from './config.js';
export * from './clock.js';
export * from './readiness.js';
export * from './observability.module.js';
export * from './bootstrap.js';
export * from './metric-names.js';
export * from './build-info.js';
export * from './step-hooks.js';
