import { z } from 'zod';
import { loadConfig } from '@capstan/platform';

export const LoadTesterConfig = z.object({
  LOADTESTER_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOADTESTER_HOST: z.string().default('0.0.0.0'),
  /** How long a blocking `bash` command may run (ms). */
  LOADTESTER_BASH_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
});

export function loadLoadTesterConfig(env?: NodeJS.ProcessEnv) {
  return loadConfig(LoadTesterConfig, env);
}
