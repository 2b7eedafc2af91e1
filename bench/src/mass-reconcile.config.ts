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
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  CAPSTAN_TEST_KUBECONFIG: z.string().optional(),
});
export type MassReconcileConfig = z.infer<typeof MassReconcileConfig>;

export function loadMassReconcileConfig(): MassReconcileConfig {
  return loadConfig(MassReconcileConfig);
}
