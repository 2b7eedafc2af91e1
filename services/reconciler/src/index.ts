export { startReconciler } from './service.js';
export * from './config.js';
