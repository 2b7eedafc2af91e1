export * from './bus.js';
export * from './consumer.js';
export * from './retry-policy.js';
export * from './jetstream.context.js';
export * from './jetstream.server.js';
export * from './bus.providers.js';
