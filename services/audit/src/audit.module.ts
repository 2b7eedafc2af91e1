import { Module, type DynamicModule } from '@nestjs/common';
import type { Bus } from '@capstan/messaging';
import { CLOCK, ObservabilityModule, systemClock, type Clock } from '@capstan/platform';
import { DecisionsController } from './http/decisions.controller.js';
import { ObjectHistoryController } from './http/object-history.controller.js';
import { VerifyController } from './http/verify.controller.js';
import { ID_GENERATOR, uuidV7Generator, type IdGenerator } from './ids.js';
import { DecisionEventsController } from './ingest/decision-events.controller.js';
import { DecisionIngest } from './ingest/decision-ingest.service.js';
import { DecisionRepository } from './persistence/decision.repository.js';
import { messagingProviders } from './messaging.js';
import { DatabaseLifecycle, prismaProvider } from './persistence/prisma.provider.js';
import { ChainVerifier } from './verification/chain-verifier.service.js';

export interface AuditModuleOptions {
  databaseUrl: string;
  clock?: Clock;
  ids?: IdGenerator;
  /** When given, the app also reports NATS in /readyz and closes the bus on shutdown. */
  bus?: Bus;
}

/** The audit service: decision events in, audit log and chain verification out. */
@Module({})
export class AuditModule {
  static forRoot(options: AuditModuleOptions): DynamicModule {
    return {
      module: AuditModule,
      imports: [ObservabilityModule.forService('audit')],
      controllers: [DecisionsController, ObjectHistoryController, VerifyController, DecisionEventsController],
      providers: [
        prismaProvider(options.databaseUrl),
        DatabaseLifecycle,
        DecisionRepository,
        DecisionIngest,
        ChainVerifier,
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: ID_GENERATOR, useValue: options.ids ?? uuidV7Generator },
        ...(options.bus ? messagingProviders(options.bus) : []),
      ],
      exports: [DecisionIngest],
    };
  }
}
