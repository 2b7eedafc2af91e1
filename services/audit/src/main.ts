import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { loadConfig } from '@capstan/platform';
import { createAuditApp } from './app.js';
import { AuditConfig } from './config.js';
import { decisionConsumer } from './messaging.js';

async function main(): Promise<void> {
  const config = loadConfig(AuditConfig);
  const bus = await connectBus({ url: config.NATS_URL, topology: topology(config.EVENT_PREFIX), name: 'capstan-audit' });
  const app = await createAuditApp(config, { bus });
  app.connectMicroservice({ strategy: decisionConsumer(bus) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  Logger.log(`listening on ${config.HTTP_HOST}:${config.HTTP_PORT}`, 'Audit');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
