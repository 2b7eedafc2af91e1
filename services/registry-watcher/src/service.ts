import 'reflect-metadata';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { startService } from '@capstan/platform';
import { loadRegistryWatcherConfig } from './config.js';
import { RegistryWatcherModule } from './app.module.js';

export async function startRegistryWatcher(env?: NodeJS.ProcessEnv) {
  const config = loadRegistryWatcherConfig(env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX),
    name: 'registry-watcher',
  });
  const service = await startService(RegistryWatcherModule.create(bus), config);
  return {
    ...service,
    close: async () => {
      await service.close();
      await bus.close();
    },
  };
}
