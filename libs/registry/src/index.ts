export * from './errors.js';
export * from './challenge.js';
export * from './headers.js';
export * from './budget.js';
export * from './media-types.js';
export * from './client.js';
