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
  HELM_BIN: z.string().min(1).default('helm'),
  KUSTOMIZE_BIN: z.string().min(1).default('kustomize'),
});
export type CliConfig = z.infer<typeof CliConfig>;

export function loadCliConfig(env?: NodeJS.ProcessEnv): CliConfig {
  return loadConfig(CliConfig, env);
}
