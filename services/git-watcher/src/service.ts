import 'reflect-metadata';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { startService } from '@capstan/platform';
import { loadGitWatcherConfig } from './config.js';
import { GitWatcherModule } from './app.module.js';

export async function startGitWatcher(env?: NodeJS.ProcessEnv) {
  const config = loadGitWatcherConfig(env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX),
    name: 'git-watcher',
  });
  const service = await startService(GitWatcherModule.create(config, bus), config, undefined, undefined, {
    // Webhook signatures are over the exact bytes sent, so the raw body must survive parsing.
    rawBody: true,
  });
  return {
    ...service,
    close: async () => {
      await service.close();
      await bus.close();
    },
  };
}
