import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '@capstan/platform';

/** The CLI's settings; flags override them. */
export const CliConfig = z.object({
  CAPSTAN_AUDIT_URL: z.url().default('http://127.0.0.1:8080'),
  CAPSTAN_TOKEN: z.string().optional(),
  /** The cluster for `reconcile` and `diff`; ~/.kube/config (or in-cluster) when unset. */
  KUBECONFIG: z.string().min(1).optional(),
  /** Git mirrors and chart archives `capstan diff` downloads. */
  CAPSTAN_CACHE_DIR: z
    .string()
    .min(1)
    .default(join(homedir(), '.cache', 'capstan', 'cli')),
  /** NATS for `capstan check`. */
  CAPSTAN_NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** PostgreSQL for `capstan check` (skipped when unset). */
  CAPSTAN_DATABASE_URL: z.string().min(1).optional(),
  /**
   * `capstan diff`'s URL rewrite table (the chart's `urlRewrites`, same JSON); when unset, the one
   * the chart gave the reconciler's Deployment is read from the cluster.
   */
  CAPSTAN_URL_REWRITES: z.string().optional(),
  HELM_BIN: z.string().min(1).default('helm'),
  KUSTOMIZE_BIN: z.string().min(1).default('kustomize'),
});
export type CliConfig = z.infer<typeof CliConfig>;

export function loadCliConfig(env?: NodeJS.ProcessEnv): CliConfig {
  return loadConfig(CliConfig, env);
}
