import 'reflect-metadata';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { startService } from '@capstan/platform';
import { loadCanaryAnalyzerConfig } from './config.js';
import { CanaryAnalyzerModule } from './app.module.js';

export async function startCanaryAnalyzer(env?: NodeJS.ProcessEnv) {
  const config = loadCanaryAnalyzerConfig(env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX),
    name: 'canary-analyzer',
  });
  const service = await startService(CanaryAnalyzerModule.create(bus), config);
  return {
    ...service,
    close: async () => {
      await service.close();
      await bus.close();
    },
  };
}
