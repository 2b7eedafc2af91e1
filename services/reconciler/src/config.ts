import { hostname } from 'node:os';
import { z } from 'zod';
import {
  BaseConfig,
  KubeConfig,
  RenderLimitsConfig,
  ReplicaConfig,
  SourcesConfig,
  StepHooksConfig,
  TenancyConfig,
  hostList,
  loadConfig,
  parsedSetting,
} from '@capstan/platform';
import { parseUrlRewrites } from '@capstan/gitops-core';

/** What a build may reach beyond the checkout (see docs/security.md, "Sources and rendering"). */
const BuildPolicyConfig = z.object({
  /** Let kustomizations name remote bases (git or HTTP): kustomize would fetch any URL. */
  KUSTOMIZE_REMOTE_BASES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /**
   * Hosts `valuesFrom.externalSourceRef` may read (`name` or `*.domain`); empty: off. Loopback,
   * link-local and the API server's addresses are refused even when listed.
   */
  VALUES_ALLOWED_HOSTS: hostList(),
  /** Set in a pod: the API server's in-cluster address, refused as a values URL. */
  KUBERNETES_SERVICE_HOST: z.string().optional(),
});

export const ReconcilerConfig = BaseConfig.extend(KubeConfig.shape)
  .extend(ReplicaConfig.shape)
  .extend(StepHooksConfig.shape)
  .extend(TenancyConfig.shape)
  .extend({
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
    /**
     * How many of the commits since a Sync's last applied revision attribution walks (the newest),
     * rendering each: bounds the cost of a burst; past it the decision says what was not walked.
     */
    ATTRIBUTION_MAX_COMMITS: z.coerce.number().int().min(2).default(100),
    /**
     * This instance's name, kept across restarts of its container (the pod name, which is the
     * hostname in Kubernetes): a reconcile attempt it left unfinished was its own crash.
     */
    INSTANCE_NAME: z.string().min(1).default(hostname()),
    /**
     * How long a Sync is held back after the reconciler stopped (crashed, OOM-killed) during its
     * last attempt; doubled for each further crash in a row, up to an hour.
     */
    CRASH_QUARANTINE: z
      .string()
      .regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, 'a Go duration such as 30s')
      .default('30s'),
    /** helm and kustomize (v5) binaries for the build phase; PATH lookup by default. */
    HELM_BIN: z.string().min(1).default('helm'),
    KUSTOMIZE_BIN: z.string().min(1).default('kustomize'),
    /** Chart archives downloaded from Helm repositories; default `<GIT_CACHE_DIR>/charts`. */
    CHART_CACHE_DIR: z.string().optional(),
    /**
     * JSON object, public URL prefix -> mirror prefix (git's insteadOf): Git repositories and Helm
     * charts are fetched from mirrors while Git keeps naming the public URLs (air-gapped clusters).
     */
    URL_REWRITES: parsedSetting(parseUrlRewrites),
    /**
     * ServiceAccount (in the Sync's own namespace) impersonated for Syncs and HelmReleases that
     * name none (Flux's --default-service-account). Empty: such Syncs act with the reconciler's
     * own rights, so a multi-tenant installation sets it.
     */
    DEFAULT_SERVICE_ACCOUNT: z
      .string()
      .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$/, 'a ServiceAccount name')
      .default('')
      .transform((v) => (v === '' ? undefined : v)),
    /**
     * Enforce cluster-scoped TenancyPolicy objects (the CRD must be installed). Fails closed: no
     * Sync is applied until the policies have been listed.
     */
    TENANCY_POLICIES: z.enum(['enabled', 'disabled']).default('disabled'),
    /** Impersonating clients kept (one per namespace and ServiceAccount in use); least recently used go first. */
    IMPERSONATION_CACHE_SIZE: z.coerce.number().int().positive().default(4096),
  })
  .extend(SourcesConfig.shape)
  .extend(RenderLimitsConfig.shape)
  .extend(BuildPolicyConfig.shape);
export type ReconcilerConfig = z.infer<typeof ReconcilerConfig>;
export const RECONCILER_CONFIG = Symbol('ReconcilerConfig');

export function loadReconcilerConfig(env?: NodeJS.ProcessEnv): ReconcilerConfig {
  return loadConfig(ReconcilerConfig, env);
}
