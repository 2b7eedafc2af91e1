import { BaseConfig, DatabaseConfig, KubeConfig, StepHooksConfig } from '@capstan/platform';
import { z } from 'zod';

/** Everything the audit service reads from the environment, validated once at start. */
export const AuditConfig = BaseConfig.extend(DatabaseConfig.shape)
  .extend(KubeConfig.shape)
  .extend(StepHooksConfig.shape)
  .extend({
    /**
     * Who may read the log. `kubernetes`: bearer tokens checked with TokenReview, access with
     * SubjectAccessReview. `disabled` answers everyone and exists only for local development.
     */
    AUDIT_AUTH: z.enum(['kubernetes', 'disabled']).default('kubernetes'),
    /** How long a TokenReview or SubjectAccessReview answer is reused; 0 asks every time. */
    AUDIT_AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
    /** How often the hash chain is verified in the background (metrics, alert, console); 0 never. */
    AUDIT_VERIFY_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(6 * 3600_000),
  });
export type AuditConfig = z.infer<typeof AuditConfig>;
