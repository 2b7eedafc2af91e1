import { type Command } from 'commander';
import type { CliConfig } from '../config.js';
import { registerGitReleases } from './git-release.js';
import { registerImages } from './images.js';
import { registerWhy } from './why.js';

/** Image automation's commands: `images list|policy`, `release`, `lock`, `unlock`, `why`. */
export function registerImageCommands(cmd: Command, out: (s: string) => void, config: CliConfig): void {
  registerImages(cmd, out, { ...(config.KUBECONFIG ? { kubeconfig: config.KUBECONFIG } : {}) });
  registerGitReleases(cmd, out);
  registerWhy(cmd, out, {
    server: config.CAPSTAN_AUDIT_URL,
    ...(config.CAPSTAN_TOKEN ? { token: config.CAPSTAN_TOKEN } : {}),
  });
}
