import 'reflect-metadata';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { loadConfig } from '@capstan/platform';
import { createAuditApp } from './app.js';
import { AuditConfig } from './config.js';
import { decisionConsumer } from './messaging.js';

/** Starts the audit service (decision consumer + HTTP API); tests call it with their own env. */
export async function startAudit(env?: NodeJS.ProcessEnv) {
  const config = loadConfig(AuditConfig, env);
  const bus = await connectBus({ url: config.NATS_URL, topology: topology(config.EVENT_PREFIX), name: 'capstan-audit' });
  const app = await createAuditApp(config, { bus });
  app.connectMicroservice({ strategy: decisionConsumer(bus) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  const address = app.getHttpServer().address() as { port: number } | string | null;
  const port = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
  // The bus is closed by BusLifecycle when the app shuts down.
  return { app, port, close: () => app.close() };
}
