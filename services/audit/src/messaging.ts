import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { JetStreamServer, type Bus } from '@capstan/messaging';
import { Readiness } from '@capstan/platform';

/** The durable consumer name every audit replica shares, so replicas split the decision stream. */
export const AUDIT_DURABLE = 'audit';

export const BUS = Symbol('Bus');

/** The consumer of decision events; they land in DecisionEventsController. */
export function decisionConsumer(bus: Bus): JetStreamServer {
  return new JetStreamServer({ bus, durable: AUDIT_DURABLE, families: ['decisions'] });
}

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

export const messagingProviders = (bus: Bus): Provider[] => [{ provide: BUS, useValue: bus }, BusLifecycle];
