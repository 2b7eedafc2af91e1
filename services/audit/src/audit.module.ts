import { Module, type DynamicModule } from '@nestjs/common';
import type { Bus } from '@capstan/messaging';
import { CLOCK, ObservabilityModule, systemClock, type Clock } from '@capstan/platform';
import { authProviders, type AuditAuthOptions } from './auth/auth.providers.js';
import { DecisionsController } from './http/decisions.controller.js';
import { ObjectHistoryController } from './http/object-history.controller.js';
import { RunningController } from './http/running.controller.js';
import { TimelineController } from './http/timeline.controller.js';
import { VerifyController } from './http/verify.controller.js';
import { ID_GENERATOR, uuidV7Generator, type IdGenerator } from './ids.js';
import { DecisionIngest } from './ingest/decision-ingest.service.js';
import { DecisionRepository } from './persistence/decision.repository.js';
import { DecisionQueries } from './persistence/decision-queries.repository.js';
import { messagingProviders } from './messaging.js';
import { DatabaseLifecycle, pgPoolProvider, prismaProvider } from './persistence/prisma.provider.js';
import { ChainVerifier } from './verification/chain-verifier.service.js';
import { DEFAULT_STREAM_OPTIONS, type StreamOptions } from './stream/stream.config.js';
import { streamControllers, streamProviders } from './stream/stream.providers.js';
import type { WebhookOptions } from './subscriptions/subscriptions.config.js';
import { webhookControllers, webhookProviders } from './subscriptions/subscriptions.providers.js';

export interface AuditModuleOptions {
  databaseUrl: string;
  clock?: Clock;
  ids?: IdGenerator;
  /** When given, the app also reports NATS in /readyz and closes the bus on shutdown. */
  bus?: Bus;
  /** Who may read the log; default: Kubernetes TokenReview + SubjectAccessReview via the default kubeconfig. */
  auth?: AuditAuthOptions;
  /** When given, Subscription resources are watched and webhooks delivered. */
  webhooks?: WebhookOptions;
  /** SSE stream and CDEvents publisher polling; defaults suit production. */
  stream?: StreamOptions;
}

/** The audit service: decision events in, audit log and chain verification out. */
@Module({})
export class AuditModule {
  static forRoot(options: AuditModuleOptions): DynamicModule {
    return {
      module: AuditModule,
      imports: [ObservabilityModule.forService('audit')],
      controllers: [
        DecisionsController,
        ObjectHistoryController,
        RunningController,
        TimelineController,
        VerifyController,
        ...streamControllers,
        ...(options.webhooks ? webhookControllers : []),
      ],
      providers: [
        prismaProvider(options.databaseUrl),
        pgPoolProvider(options.databaseUrl),
        DatabaseLifecycle,
        DecisionRepository,
        DecisionQueries,
        ...authProviders(options.auth ?? { mode: 'kubernetes' }),
        DecisionIngest,
        ChainVerifier,
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: ID_GENERATOR, useValue: options.ids ?? uuidV7Generator },
        ...(options.bus ? messagingProviders(options.bus) : []),
        ...streamProviders(options.stream ?? DEFAULT_STREAM_OPTIONS, options.bus !== undefined),
        ...(options.webhooks ? webhookProviders(options.webhooks) : []),
      ],
      exports: [DecisionIngest],
    };
  }
}
