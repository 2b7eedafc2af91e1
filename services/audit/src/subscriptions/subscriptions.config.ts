import { z } from 'zod';
import { TenancyConfig } from '@capstan/platform';

/** Webhook delivery settings, validated once at start (part of the audit service's environment). */
export const SubscriptionsConfig = TenancyConfig.extend({
  /** Watch Subscription resources and deliver webhooks; needs RBAC on subscriptions (+status) and secrets. */
  AUDIT_SUBSCRIPTIONS: z.enum(['enabled', 'disabled']).default('disabled'),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  WEBHOOK_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(1_000),
  WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(600_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** How often workers look for due deliveries and the fan-out for new decisions. */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).default(250),
  /** Deliveries sent at once per replica (each to a different subscription/subject). */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(64),
  /** The console's external base URL (https://capstan.example.com); chat messages and commit statuses link to it. */
  CONSOLE_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
});
export type SubscriptionsConfig = z.infer<typeof SubscriptionsConfig>;

export interface WebhookOptions {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
  pollMs: number;
  concurrency: number;
  consoleUrl?: string | undefined;
  allowCrossNamespaceRefs: boolean;
}

export function webhookOptions(c: SubscriptionsConfig): WebhookOptions {
  return {
    maxAttempts: c.WEBHOOK_MAX_ATTEMPTS,
    backoffBaseMs: c.WEBHOOK_BACKOFF_BASE_MS,
    backoffMaxMs: c.WEBHOOK_BACKOFF_MAX_MS,
    timeoutMs: c.WEBHOOK_TIMEOUT_MS,
    pollMs: c.WEBHOOK_POLL_MS,
    concurrency: c.WEBHOOK_CONCURRENCY,
    consoleUrl: c.CONSOLE_URL,
    // Off (the default): a Subscription hears its own namespace's decisions only, and one whose
    // filter names another namespace is refused (Ready=False CrossNamespaceRefNotAllowed).
    allowCrossNamespaceRefs: c.ALLOW_CROSS_NAMESPACE_REFS,
  };
}

export const WEBHOOK_OPTIONS = Symbol('WebhookOptions');
