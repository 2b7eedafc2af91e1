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
});

export function logLevels(level: BaseConfig['LOG_LEVEL']): (typeof LOG_LEVELS)[number][] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}
