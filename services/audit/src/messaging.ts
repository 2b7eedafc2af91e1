import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { registerBusMetrics, type Bus } from '@capstan/messaging';
import { Registry } from 'prom-client';
import { Readiness, StepHooks } from '@capstan/platform';
import { DecisionIngest } from './ingest/decision-ingest.service.js';
import { DecisionStreamConsumer } from './ingest/decision-stream.consumer.js';

/** The durable consumer name every audit replica shares, so replicas split the decision stream. */
export const AUDIT_DURABLE = 'audit';

export const BUS = Symbol('Bus');

/** /readyz includes NATS; the connection closes after Nest has stopped the consumer. */
@Injectable()
export class BusLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly readiness: Readiness,
  ) {}

  onModuleInit(): void {
    this.readiness.register('nats', () => this.bus.healthCheck());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

export const messagingProviders = (bus: Bus): Provider[] => [
  { provide: BUS, useValue: bus },
  BusLifecycle,
  // Consumer lag, queue depth and dead letters, as every service reports them.
  { provide: 'bus-metrics', inject: [Registry], useFactory: (r: Registry) => registerBusMetrics(bus, r) },
  // Decision events in, batched (see DecisionStreamConsumer); started once the app is up, stopped
  // before the bus and the database pool close.
  {
    provide: DecisionStreamConsumer,
    inject: [DecisionIngest, StepHooks],
    useFactory: (ingest: DecisionIngest, hooks: StepHooks) =>
      new DecisionStreamConsumer(bus, ingest, { durable: AUDIT_DURABLE, hooks }),
  },
];
