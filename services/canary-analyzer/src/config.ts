import { type z } from 'zod';
import { BaseConfig, loadConfig } from '@capstan/platform';

export const CanaryAnalyzerConfig = BaseConfig;
export type CanaryAnalyzerConfig = z.infer<typeof CanaryAnalyzerConfig>;

export function loadCanaryAnalyzerConfig(env?: NodeJS.ProcessEnv): CanaryAnalyzerConfig {
  return loadConfig(CanaryAnalyzerConfig, env);
}
