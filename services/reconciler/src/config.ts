import { z } from 'zod';
import { BaseConfig, KubeConfig, loadConfig } from '@capstan/platform';

export const ReconcilerConfig = BaseConfig.extend(KubeConfig.shape).extend({
  GIT_CACHE_DIR: z.string().default('/tmp/capstan/reconciler'),
  /** Server-side apply field manager; drift detection keys on it. */
  FIELD_MANAGER: z.string().default('capstan'),
  /** Reconciles running at once across different Syncs (one Sync never runs twice at once). */
  // Most of a reconcile is waiting on the API server, so many run at once even on 2 cores.
  RECONCILE_CONCURRENCY: z.coerce.number().int().positive().default(32),
  /** How soon a Sync whose dependencies are not Ready is tried again (Flux: 30s). */
  DEPENDENCY_RETRY_INTERVAL: z
    .string()
    .regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, 'a Go duration such as 5s')
    .default('5s'),
  /** helm and kustomize (v5) binaries for the build phase; PATH lookup by default. */
  HELM_BIN: z.string().min(1).default('helm'),
  KUSTOMIZE_BIN: z.string().min(1).default('kustomize'),
  /** Chart archives downloaded from Helm repositories; default `<GIT_CACHE_DIR>/charts`. */
  CHART_CACHE_DIR: z.string().optional(),
});
export type ReconcilerConfig = z.infer<typeof ReconcilerConfig>;
export const RECONCILER_CONFIG = Symbol('ReconcilerConfig');

export function loadReconcilerConfig(env?: NodeJS.ProcessEnv): ReconcilerConfig {
  return loadConfig(ReconcilerConfig, env);
}
