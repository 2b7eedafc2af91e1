import { z } from 'zod';
import { BaseConfig, KubeConfig, loadConfig } from '@capstan/platform';

export const CanaryAnalyzerConfig = BaseConfig.extend(KubeConfig.shape).extend({
  /** Prometheus for Canaries that name no metricsServer (Flagger's -metrics-server). */
  METRICS_SERVER: z.url().default('http://prometheus:9090'),
  /** The mesh when a Canary names no provider (Flagger's -mesh-provider). */
  MESH_PROVIDER: z.string().default('linkerd'),
  /** Field manager of the objects the analyzer owns (primary, Services, routes). */
  FIELD_MANAGER: z.string().default('capstan-canary'),
  /** This replica's identity in the per-Canary Leases; the pod name in a cluster. */
  REPLICA_ID: z.string().default(`canary-analyzer-${process.pid}`),
  /** How long a replica's hold on a Canary lasts without renewal (seconds). */
  LEASE_SECONDS: z.coerce.number().int().min(2).default(15),
  /** Namespaces whose Canaries this analyzer drives (comma separated); empty = all (Flagger's -namespace). */
  WATCH_NAMESPACES: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Floor of the analysis interval (Flagger refuses less than 10s); tests may lower it. */
  MIN_INTERVAL: z
    .string()
    .regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, 'a Go duration such as 10s')
    .default('10s'),
  /**
   * Tests only: rollout event types (comma separated) after whose recording the process kills
   * itself with SIGKILL, before the cluster follows and before anyone is told: the crash tests'
   * way to die at the worst moment of each phase. Empty in production.
   */
  CANARY_FAULT_KILL_AFTER: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
});
export type CanaryAnalyzerConfig = z.infer<typeof CanaryAnalyzerConfig>;

export function loadCanaryAnalyzerConfig(env?: NodeJS.ProcessEnv): CanaryAnalyzerConfig {
  return loadConfig(CanaryAnalyzerConfig, env);
}
