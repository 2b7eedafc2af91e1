export { startCanaryAnalyzer } from './service.js';
export * from './config.js';
export { startLoadTester, type LoadTester, type LoadTesterOptions } from './loadtester/loadtester-server.js';
export { RolloutStore } from './rollout/rollout-store.js';
