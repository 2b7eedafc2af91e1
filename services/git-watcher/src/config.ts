import { z } from 'zod';
import {
  BaseConfig,
  KubeConfig,
  ReplicaConfig,
  SourcesConfig,
  StepHooksConfig,
  loadConfig,
  TenancyConfig,
  parsedSetting,
} from '@capstan/platform';
import { parseUrlRewrites } from '@capstan/gitops-core';

export const GitWatcherConfig = BaseConfig.extend(KubeConfig.shape)
  .extend(SourcesConfig.shape)
  .extend(TenancyConfig.shape)
  .extend(ReplicaConfig.shape)
  .extend(StepHooksConfig.shape)
  .extend({
    /** Where bare mirrors of watched repositories are kept between polls. */
    GIT_CACHE_DIR: z.string().default('/tmp/capstan/git-watcher'),
    /** First retry delay after a failed fetch; doubles up to the repository's interval. */
    RETRY_BASE_MS: z.coerce.number().int().positive().default(1_000),
    /**
     * JSON object, public URL prefix -> mirror prefix (git's insteadOf): Git repositories and Helm
     * charts are fetched from mirrors while Git keeps naming the public URLs (air-gapped clusters).
     */
    URL_REWRITES: parsedSetting(parseUrlRewrites),
    /** How long an accepted webhook delivery is remembered; the same signed body again is a replay. */
    RECEIVER_REPLAY_WINDOW_SECONDS: z.coerce.number().int().positive().default(86_400),
    /** How far a generic sender's signed X-Capstan-Timestamp may be from now, either way. */
    RECEIVER_TIMESTAMP_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  });
export type GitWatcherConfig = z.infer<typeof GitWatcherConfig>;

export const GIT_WATCHER_CONFIG = Symbol('GitWatcherConfig');

export function loadGitWatcherConfig(env?: NodeJS.ProcessEnv): GitWatcherConfig {
  return loadConfig(GitWatcherConfig, env);
}
