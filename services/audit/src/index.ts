export { startAudit } from './service.js';
export { AuditConfig } from './config.js';
