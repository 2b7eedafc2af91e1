export { startRegistryWatcher } from './service.js';
export * from './config.js';
export { hmac as registryWebhookSignature } from './domain/notification-auth.js';
