export { startRegistryWatcher } from './service.js';
export * from './config.js';
