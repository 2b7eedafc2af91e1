export { startCanaryAnalyzer } from './service.js';
export * from './config.js';
