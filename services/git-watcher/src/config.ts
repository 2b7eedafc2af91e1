import { z } from 'zod';
import { BaseConfig, KubeConfig, loadConfig } from '@capstan/platform';

export const GitWatcherConfig = BaseConfig.extend(KubeConfig.shape).extend({
  /** Where bare mirrors of watched repositories are kept between polls. */
  GIT_CACHE_DIR: z.string().default('/tmp/capstan/git-watcher'),
  /** First retry delay after a failed fetch; doubles up to the repository's interval. */
  RETRY_BASE_MS: z.coerce.number().int().positive().default(1_000),
});
export type GitWatcherConfig = z.infer<typeof GitWatcherConfig>;

export const GIT_WATCHER_CONFIG = Symbol('GitWatcherConfig');

export function loadGitWatcherConfig(env?: NodeJS.ProcessEnv): GitWatcherConfig {
  return loadConfig(GitWatcherConfig, env);
}
