import { z } from 'zod';
import { BaseConfig, KubeConfig, loadConfig } from '@capstan/platform';

export const ReconcilerConfig = BaseConfig.extend(KubeConfig.shape).extend({
  GIT_CACHE_DIR: z.string().default('/tmp/capstan/reconciler'),
  /** Server-side apply field manager; drift detection keys on it. */
  FIELD_MANAGER: z.string().default('capstan'),
  /** Reconciles running at once across different Syncs (one Sync never runs twice at once). */
  RECONCILE_CONCURRENCY: z.coerce.number().int().positive().default(4),
});
export type ReconcilerConfig = z.infer<typeof ReconcilerConfig>;
export const RECONCILER_CONFIG = Symbol('ReconcilerConfig');

export function loadReconcilerConfig(env?: NodeJS.ProcessEnv): ReconcilerConfig {
  return loadConfig(ReconcilerConfig, env);
}
