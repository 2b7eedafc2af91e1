import { z } from 'zod';
import { loadConfig } from '@capstan/platform';

/** Settings of the mass-reconcile benchmark, from the environment. */
export const MassReconcileConfig = z.object({
  /** Comma-separated Sync counts to run, e.g. `100,500,1000`. */
  BENCH_SYNCS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated counts, e.g. 100,500,1000')
    .default('100,500'),
  /** Reconciler concurrency for the run; the reconciler's own default when unset. */
  BENCH_RECONCILE_CONCURRENCY: z.coerce.number().int().positive().optional(),
  /** Whether Syncs wait for their Deployments to be Available before Ready (spec.wait). */
  BENCH_WAIT: z.enum(['true', 'false']).default('true'),
  /** impersonation-cost: how many times to run without and then with impersonation. */
  BENCH_ROUNDS: z.coerce.number().int().positive().default(1),
  /**
   * Another checkout (a worktree at an older commit, built) whose reconciler runs instead of this
   * one's: A/B runs of two versions against the same harness, cluster and load.
   */
  BENCH_RECONCILER_ROOT: z.string().min(1).optional(),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  CAPSTAN_TEST_KUBECONFIG: z.string().optional(),
});
export type MassReconcileConfig = z.infer<typeof MassReconcileConfig>;

export function loadMassReconcileConfig(): MassReconcileConfig {
  return loadConfig(MassReconcileConfig);
}
