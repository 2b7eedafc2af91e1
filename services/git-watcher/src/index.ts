export { startGitWatcher } from './service.js';
export * from './config.js';
