import { z } from 'zod';
import { loadConfig } from '@capstan/platform';

/** The CLI's settings; flags override them. */
export const CliConfig = z.object({
  CAPSTAN_AUDIT_URL: z.url().default('http://127.0.0.1:8080'),
  CAPSTAN_TOKEN: z.string().optional(),
});
export type CliConfig = z.infer<typeof CliConfig>;

export function loadCliConfig(env?: NodeJS.ProcessEnv): CliConfig {
  return loadConfig(CliConfig, env);
}
