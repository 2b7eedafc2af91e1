import 'reflect-metadata';
import { topology } from '@capstan/events';
import { JetStreamServer, connectBus } from '@capstan/messaging';
import { startService } from '@capstan/platform';
import { loadReconcilerConfig } from './config.js';
import { ReconcilerModule } from './app.module.js';

export async function startReconciler(env?: NodeJS.ProcessEnv) {
  const config = loadReconcilerConfig(env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX),
    name: 'reconciler',
  });
  const transport = new JetStreamServer({
    bus,
    durable: 'reconciler',
    families: ['git'],
    ackWaitMs: 120_000,
    concurrency: config.RECONCILE_CONCURRENCY,
  });
  const service = await startService(ReconcilerModule.create(config, bus), config, transport);
  return {
    ...service,
    close: async () => {
      await service.close();
      await bus.close();
    },
  };
}
