import { type z } from 'zod';
import { BaseConfig, loadConfig } from '@capstan/platform';

export const RegistryWatcherConfig = BaseConfig;
export type RegistryWatcherConfig = z.infer<typeof RegistryWatcherConfig>;

export function loadRegistryWatcherConfig(env?: NodeJS.ProcessEnv): RegistryWatcherConfig {
  return loadConfig(RegistryWatcherConfig, env);
}
