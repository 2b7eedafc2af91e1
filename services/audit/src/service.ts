import 'reflect-metadata';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { loadConfig, startService, StepHooks, type StartedService } from '@capstan/platform';
import { AuditModule } from './audit.module.js';
import { ConsoleConfig } from './console/console.config.js';
import { consoleOptions } from './console/console.providers.js';
import { AuditConfig } from './config.js';
import { setupApiDocs } from './http/openapi.js';
import { StreamConfig, streamOptions } from './stream/stream.config.js';
import { SubscriptionsConfig, webhookOptions } from './subscriptions/subscriptions.config.js';

/**
 * Starts the audit service: the decision consumer on JetStream and the HTTP API. Tests and the
 * e2e platform call it with their own env; `close()` stops the consumer, then closes the bus
 * (BusLifecycle) and the database pool.
 */
export async function startAudit(env?: NodeJS.ProcessEnv): Promise<StartedService> {
  const config = loadConfig(AuditConfig, env);
  const subscriptions = loadConfig(SubscriptionsConfig, env);
  const stream = loadConfig(StreamConfig, env);
  const consoleConfig = loadConfig(ConsoleConfig, env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX, { replicas: config.NATS_STREAM_REPLICAS }),
    name: 'capstan-audit',
  });
  try {
    return await startService(
      AuditModule.forRoot({
        databaseUrl: config.DATABASE_URL,
        bus,
        kube: {
          kubeconfigPath: config.KUBECONFIG,
          // Probed whenever the service depends on the API server for more than the console.
          ...(config.AUDIT_AUTH === 'kubernetes' || subscriptions.AUDIT_SUBSCRIPTIONS === 'enabled'
            ? { apiProbe: config }
            : {}),
        },
        auth:
          config.AUDIT_AUTH === 'kubernetes'
            ? { mode: 'kubernetes', cacheTtlMs: config.AUDIT_AUTH_CACHE_TTL_MS }
            : { mode: 'disabled' },
        stream: streamOptions(stream),
        verifyIntervalMs: config.AUDIT_VERIFY_INTERVAL_MS,
        hooks: new StepHooks(config),
        console: consoleOptions(consoleConfig),
        ...(subscriptions.AUDIT_SUBSCRIPTIONS === 'enabled'
          ? { webhooks: webhookOptions(subscriptions) }
          : {}),
      }),
      config,
      // Decision events are consumed by DecisionStreamConsumer (a provider), not a Nest transport.
      undefined,
      setupApiDocs,
    );
  } catch (e) {
    await bus.close();
    throw e;
  }
}
