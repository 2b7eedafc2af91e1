import 'reflect-metadata';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { loadConfig, startService, type StartedService } from '@capstan/platform';
import { AuditModule } from './audit.module.js';
import { AuditConfig } from './config.js';
import { decisionConsumer } from './messaging.js';

/**
 * Starts the audit service: the decision consumer on JetStream and the HTTP API. Tests and the
 * e2e platform call it with their own env; `close()` stops the consumer, then closes the bus
 * (BusLifecycle) and the database pool.
 */
export async function startAudit(env?: NodeJS.ProcessEnv): Promise<StartedService> {
  const config = loadConfig(AuditConfig, env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX),
    name: 'capstan-audit',
  });
  try {
    return await startService(
      AuditModule.forRoot({ databaseUrl: config.DATABASE_URL, bus }),
      config,
      decisionConsumer(bus),
    );
  } catch (e) {
    await bus.close();
    throw e;
  }
}
