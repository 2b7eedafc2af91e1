import 'reflect-metadata';
import { raw } from 'express';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { startService } from '@capstan/platform';
import { loadRegistryWatcherConfig } from './config.js';
import { RegistryWatcherModule } from './app.module.js';
import { SeenStore } from './scanning/seen-store.js';

export async function startRegistryWatcher(env?: NodeJS.ProcessEnv) {
  const config = loadRegistryWatcherConfig(env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX, { replicas: config.NATS_STREAM_REPLICAS }),
    name: 'registry-watcher',
  });
  const store = await SeenStore.open(bus, config.EVENT_PREFIX);
  const service = await startService(
    RegistryWatcherModule.create(config, bus, store),
    config,
    undefined,
    (app) => {
      // Registries send their own content types (distribution: ...events.v1+json); signatures and
      // parsing need the exact bytes, so this path takes every body raw.
      app.use('/registry/v1/notifications', raw({ type: () => true, limit: '5mb' }));
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
