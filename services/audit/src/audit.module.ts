import {
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import type { Bus } from '@capstan/messaging';
import { CLOCK, ObservabilityModule, StepHooks, systemClock, type Clock } from '@capstan/platform';
import { authProviders, type AuditAuthOptions } from './auth/auth.providers.js';
import { auditKubeProviders, type AuditKubeOptions } from './kube/audit-kube.providers.js';
import { DecisionsController } from './http/decisions.controller.js';
import { ObjectHistoryController } from './http/object-history.controller.js';
import { RunningController } from './http/running.controller.js';
import { TimelineController } from './http/timeline.controller.js';
import { VerifyController } from './http/verify.controller.js';
import { ID_GENERATOR, uuidV7Generator, type IdGenerator } from './ids.js';
import { DecisionIngest } from './ingest/decision-ingest.service.js';
import { DecisionRepository } from './persistence/decision.repository.js';
import { DecisionQueries } from './persistence/decision-queries.repository.js';
import { RecentDecisions } from './persistence/recent-decisions.js';
import { messagingProviders } from './messaging.js';
import { DatabaseLifecycle, pgPoolProvider, prismaProvider } from './persistence/prisma.provider.js';
import { ChainVerifier } from './verification/chain-verifier.service.js';
import { ChainVerificationSchedule, VERIFY_INTERVAL_MS } from './verification/chain-verification.schedule.js';
import { AuditMetrics } from './observability/audit-metrics.js';
import type { ConsoleOptions } from './console/console.config.js';
import {
  consoleControllers,
  consoleProviders,
  DEFAULT_CONSOLE_OPTIONS,
} from './console/console.providers.js';
import { SessionMiddleware } from './console/session.middleware.js';
import {
  canaryCommandControllers,
  canaryCommandProviders,
} from './canary-commands/canary-commands.providers.js';

export const DEFAULT_VERIFY_INTERVAL_MS = 6 * 3600_000;
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
  /** How the service reaches the API server (default kubeconfig, no connection probe). */
  kube?: AuditKubeOptions;
  /** Who may read the log; default: Kubernetes TokenReview + SubjectAccessReview via the default kubeconfig. */
  auth?: AuditAuthOptions;
  /** When given, Subscription resources are watched and webhooks delivered. */
  webhooks?: WebhookOptions;
  /** SSE stream and CDEvents publisher polling; defaults suit production. */
  stream?: StreamOptions;
  /** How often the hash chain is verified in the background; 0 never (default: 6 h). */
  verifyIntervalMs?: number;
  /** The web console's sessions; defaults to a per-process key. */
  console?: ConsoleOptions;
  /** Where chaos tests stop the ingest (TEST_PAUSE_AT); none by default. */
  hooks?: StepHooks;
}

/** The audit service: decision events in, audit log and chain verification out. */
@Module({})
export class AuditModule implements NestModule {
  /** The console's session cookie authenticates API requests that carry no bearer token. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SessionMiddleware).forRoutes({ path: 'api/*path', method: RequestMethod.ALL });
  }

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
        ...consoleControllers,
        ...(options.bus ? canaryCommandControllers : []),
      ],
      providers: [
        prismaProvider(options.databaseUrl),
        pgPoolProvider(options.databaseUrl),
        DatabaseLifecycle,
        DecisionRepository,
        RecentDecisions,
        DecisionQueries,
        ...auditKubeProviders(options.kube ?? {}),
        ...authProviders(options.auth ?? { mode: 'kubernetes' }),
        DecisionIngest,
        ChainVerifier,
        AuditMetrics,
        { provide: VERIFY_INTERVAL_MS, useValue: options.verifyIntervalMs ?? DEFAULT_VERIFY_INTERVAL_MS },
        ChainVerificationSchedule,
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: StepHooks, useValue: options.hooks ?? StepHooks.none },
        { provide: ID_GENERATOR, useValue: options.ids ?? uuidV7Generator },
        ...(options.bus ? messagingProviders(options.bus) : []),
        ...streamProviders(options.stream ?? DEFAULT_STREAM_OPTIONS, options.bus !== undefined),
        ...(options.webhooks ? webhookProviders(options.webhooks) : []),
        ...consoleProviders(options.console ?? DEFAULT_CONSOLE_OPTIONS()),
        ...(options.bus ? canaryCommandProviders(options.bus, options.auth) : []),
      ],
      exports: [DecisionIngest],
    };
  }
}
