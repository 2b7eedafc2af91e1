import { z } from 'zod';
import { loadConfig } from '@capstan/platform';

/** Settings of the reconciler scale-out, failover and soak benchmarks, from the environment. */
export const ScaleOutConfig = z.object({
  /** Syncs reconciled by the scale-out run. */
  BENCH_SCALE_SYNCS: z.coerce.number().int().positive().default(1000),
  /** Reconciler replica counts to run, comma-separated. */
  BENCH_SCALE_REPLICAS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated counts, e.g. 1,2,3')
    .default('1,2,3'),
  /** Syncs of the failover run (a third of them on the replica killed). */
  BENCH_FAILOVER_SYNCS: z.coerce.number().int().positive().default(300),
  /** How long the soak runs, in minutes (the run is an hour). */
  SOAK_MINUTES: z.coerce.number().positive().default(60),
  /** Seconds between the soak's commits (each changes every Sync's ConfigMap). */
  SOAK_COMMIT_SECONDS: z.coerce.number().positive().default(10),
  /** Syncs the soak's commits go to. */
  SOAK_SYNCS: z.coerce.number().int().positive().default(20),
});
export type ScaleOutConfig = z.infer<typeof ScaleOutConfig>;

export function loadScaleOutConfig(): ScaleOutConfig {
  return loadConfig(ScaleOutConfig);
}
