import { BaseConfig, DatabaseConfig } from '@capstan/platform';
import type { z } from 'zod';

/** Everything the audit service reads from the environment, validated once at start. */
export const AuditConfig = BaseConfig.extend(DatabaseConfig.shape);
export type AuditConfig = z.infer<typeof AuditConfig>;
