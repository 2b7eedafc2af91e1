import { startAudit } from './service.js';

// The container entrypoint; everything else is importable without side effects.
await startAudit();
