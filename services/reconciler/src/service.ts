import 'reflect-metadata';
import { topology } from '@capstan/events';
import { JetStreamServer, connectBus } from '@capstan/messaging';
import { startService } from '@capstan/platform';
import { loadReconcilerConfig } from './config.js';
import { ReconcilerModule } from './app.module.js';
import { AttemptLedger } from './reconcile/attempt-ledger.js';

export async function startReconciler(env?: NodeJS.ProcessEnv) {
  const config = loadReconcilerConfig(env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX, { replicas: config.NATS_STREAM_REPLICAS }),
    name: 'reconciler',
  });
  const transport = new JetStreamServer({
    bus,
    // Every replica reads every commit, for the Syncs it owns: a consumer per replica. A new
    // replica starts at new commits; the Syncs it gains are reconciled from their artifacts.
    durable: `reconciler-${config.POD_NAME}`,
    ownReplica: { inactiveThresholdMs: 10 * 60_000 },
    families: ['git'],
    ackWaitMs: 120_000,
    concurrency: config.RECONCILE_CONCURRENCY,
  });
  const attempts = await AttemptLedger.open(bus, config.EVENT_PREFIX);
  const service = await startService(ReconcilerModule.create(config, bus, attempts), config, transport);
  return {
    ...service,
    close: async () => {
      await service.close();
      await bus.close();
    },
  };
}
