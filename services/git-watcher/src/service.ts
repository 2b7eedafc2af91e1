import 'reflect-metadata';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { startService } from '@capstan/platform';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadGitWatcherConfig } from './config.js';
import { GitWatcherModule } from './app.module.js';

export async function startGitWatcher(env?: NodeJS.ProcessEnv) {
  const config = loadGitWatcherConfig(env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX, { replicas: config.NATS_STREAM_REPLICAS }),
    name: 'git-watcher',
  });
  // Nest keeps the raw bytes only for JSON and form bodies; a delivery sent as text/plain or
  // anything else must be verified over its bytes too, not over an empty buffer.
  const rawForEveryType = (app: unknown) =>
    void (app as NestExpressApplication).useBodyParser('raw', { type: () => true, limit: '5mb' });
  const service = await startService(
    GitWatcherModule.create(config, bus),
    config,
    undefined,
    rawForEveryType,
    {
      // Webhook signatures are over the exact bytes sent, so the raw body must survive parsing.
      rawBody: true,
    },
  );
  return {
    ...service,
    close: async () => {
      await service.close();
      await bus.close();
    },
  };
}
