import { z } from 'zod';
import {
  BaseConfig,
  KubeConfig,
  loadConfig,
  RenderLimitsConfig,
  ReplicaConfig,
  SourcesConfig,
  StepHooksConfig,
  TenancyConfig,
} from '@capstan/platform';

export const RegistryWatcherConfig = BaseConfig.extend(KubeConfig.shape)
  .extend(TenancyConfig.shape)
  .extend(SourcesConfig.shape)
  // Files the automation reads from a tenant's repository are bounded like the reconciler's.
  .extend(RenderLimitsConfig.pick({ MAX_FILE_BYTES: true }).shape)
  .extend(ReplicaConfig.shape)
  .extend(StepHooksConfig.shape)
  .extend({
    /** Working clones of the repositories automations write to, kept between runs. */
    GIT_CACHE_DIR: z.string().default('/tmp/capstan/registry-watcher'),
    /** Shared secret registries present on the notifications endpoint (Bearer, Harbor header, ?token=). */
    REGISTRY_WEBHOOK_TOKEN: z.string().min(16).optional(),
    /** HMAC key for GHCR (GitHub package webhooks); defaults to the token. */
    REGISTRY_WEBHOOK_HMAC_SECRET: z.string().min(16).optional(),
    /** Request budget per registry: requests per second and burst (Flux v1's --registry-rps/-burst). */
    REGISTRY_RPS: z.coerce.number().positive().default(200),
    REGISTRY_BURST: z.coerce.number().int().positive().default(125),
    /** Tags asked for per page; registries cap it and we follow Link headers. */
    REGISTRY_PAGE_SIZE: z.coerce.number().int().positive().default(1000),
    /**
     * Repositories scanned (and their policies evaluated) at once: bounds memory and registry load
     * when many are due together. 4 keeps 100 × 1,000 tags under 150 MiB (image-scan-cost).
     */
    SCAN_CONCURRENCY: z.coerce.number().int().positive().default(4),
    /** First retry delay after a failed scan or run; doubles up to the object's interval. */
    RETRY_BASE_MS: z.coerce.number().int().positive().default(1_000),
    /** Who automation commits are by unless the ImageUpdateAutomation names an author. */
    AUTOMATION_AUTHOR_NAME: z.string().min(1).default('Capstan'),
    AUTOMATION_AUTHOR_EMAIL: z.string().min(3).default('capstan@capstan.dev'),
  });
export type RegistryWatcherConfig = z.infer<typeof RegistryWatcherConfig>;

export const REGISTRY_WATCHER_CONFIG = Symbol('RegistryWatcherConfig');

export function loadRegistryWatcherConfig(env?: NodeJS.ProcessEnv): RegistryWatcherConfig {
  return loadConfig(RegistryWatcherConfig, env);
}
