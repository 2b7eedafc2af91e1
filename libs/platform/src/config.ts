import { hostname } from 'node:os';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The one place that reads the environment. Services call it once at start-up with their schema;
 * a typo or a bad value fails right there, naming the variable.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  // Empty strings mean "unset" so Helm's `value: ""` falls back to defaults instead of failing.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })),
  );
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;

/** Settings every Capstan service shares. */
export const BaseConfig = z.object({
  SERVICE_NAME: z.string().optional(),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HTTP_HOST: z.string().default('0.0.0.0'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /**
   * Copies of every stream and KV bucket this service creates (JetStream's num_replicas): 1 on a
   * single server, 3 on a 3-node cluster to survive the loss of one node; at most the cluster size.
   */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Prefix of every stream and subject; tests use a private one. */
  EVENT_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/)
    .default('capstan'),
  CLUSTER_NAME: z.string().default('local'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('log'),
});
export type BaseConfig = z.infer<typeof BaseConfig>;

export const DatabaseConfig = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgresql://postgres@127.0.0.1:5432/capstan'),
});

export const KubeConfig = z.object({
  /** Path to a kubeconfig; unset means in-cluster service account, then ~/.kube/config. */
  KUBECONFIG: z.string().optional(),
  /**
   * How often the API server is asked whether the service's connection still answers, and how
   * long an answer may take: a silent connection is replaced and `/readyz` fails meanwhile.
   */
  API_PROBE_INTERVAL: z
    .string()
    .regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, 'a Go duration such as 10s')
    .default('10s'),
  API_PROBE_TIMEOUT: z
    .string()
    .regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, 'a Go duration such as 5s')
    .default('5s'),
});

/**
 * Who this replica is among the service's replicas, and how work is split between them
 * (libs/kube ShardLeases: one Lease per replica, one per shard, in POD_NAMESPACE).
 */
export const ReplicaConfig = z.object({
  /** This replica's identity in the Leases; the chart sets the pod's name. */
  POD_NAME: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** Where the shard Leases live; the chart sets the release's namespace. */
  POD_NAMESPACE: z.string().min(1).default('default'),
  /** Shards the keys (Syncs, repositories) are split into; more shards than replicas spreads evenly. */
  SHARDS: z.coerce.number().int().min(1).max(1024).default(32),
  /**
   * A replica that stops renewing its Lease for this long is dead and its shards move; it stops
   * acting on them a second earlier by itself. Renewals go every sixth of it.
   */
  SHARD_LEASE_SECONDS: z.coerce.number().min(3).max(300).default(6),
});
export type ReplicaConfig = z.infer<typeof ReplicaConfig>;

/** Tenancy switches every service that follows references between objects reads the same way. */
export const TenancyConfig = z.object({
  /**
   * Let an object name objects in other namespaces (a Receiver's targets, an ImagePolicy's
   * ImageRepository, an automation's GitRepository...). Off: a tenant reaches its own namespace only.
   */
  ALLOW_CROSS_NAMESPACE_REFS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export function logLevels(level: BaseConfig['LOG_LEVEL']): (typeof LOG_LEVELS)[number][] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}

/** Comma-separated list in an environment variable, each entry trimmed, empties dropped. */
function commaList<T extends string>(allowed?: readonly T[]) {
  return z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .superRefine((list, ctx) => {
      if (!allowed) return;
      for (const item of list)
        if (!allowed.includes(item as T))
          ctx.addIssue({
            code: 'custom',
            message: `unknown entry "${item}" (allowed: ${allowed.join(', ')})`,
          });
    })
    .transform((list) => list as T[]);
}

/**
 * Which repository URLs the git-watcher and the reconciler fetch. `file` (file:// URLs and local
 * paths) is off unless listed: a tenant's GitRepository must not read the host's disk.
 */
export const SourcesConfig = z.object({
  SOURCE_SCHEMES: commaList(['https', 'http', 'ssh', 'git', 'file'] as const).default([
    'https',
    'http',
    'ssh',
    'git',
  ]),
});

const bytes = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Bounds of one Sync's build (chart values `limits.*`); past one, the Sync fails with BuildFailed
 * naming the file and the limit, and the reconciler carries on with the others.
 */
export const RenderLimitsConfig = z.object({
  MAX_FILE_BYTES: bytes(4 * 1024 * 1024),
  MAX_RENDERED_BYTES: bytes(32 * 1024 * 1024),
  MAX_DOCUMENTS: bytes(10_000),
  MAX_YAML_EXPANDED_BYTES: bytes(8 * 1024 * 1024),
  /** Files of one commit read into memory (those under MAX_FILE_BYTES), summed. */
  MAX_REPOSITORY_BYTES: bytes(64 * 1024 * 1024),
  /** One chart archive or repository index.yaml read from a Helm repository. */
  MAX_CHART_BYTES: bytes(128 * 1024 * 1024),
});

/**
 * A setting whose text `parse` turns into a value (empty when unset); what `parse` throws becomes
 * the setting's error, so a bad value stops the service at start naming the variable.
 */
export function parsedSetting<T>(parse: (text: string) => T) {
  return z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parse(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
        return z.NEVER;
      }
    });
}

/** Comma-separated host names, for allow-lists. */
export const hostList = () => commaList().default([]);
