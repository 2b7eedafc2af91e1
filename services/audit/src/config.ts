import { BaseConfig, DatabaseConfig, KubeConfig } from '@capstan/platform';
import { z } from 'zod';

/** Everything the audit service reads from the environment, validated once at start. */
export const AuditConfig = BaseConfig.extend(DatabaseConfig.shape)
  .extend(KubeConfig.shape)
  .extend({
    /**
     * Who may read the log. `kubernetes`: bearer tokens checked with TokenReview, access with
     * SubjectAccessReview. `disabled` answers everyone and exists only for local development.
     */
    AUDIT_AUTH: z.enum(['kubernetes', 'disabled']).default('kubernetes'),
    /** How long a TokenReview or SubjectAccessReview answer is reused; 0 asks every time. */
    AUDIT_AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
  });
export type AuditConfig = z.infer<typeof AuditConfig>;
