import type { Provider } from '@nestjs/common';
import { Registry } from 'prom-client';
import { Readiness } from '@capstan/platform';
import { Bus } from './bus.js';
import { registerBusMetrics } from './bus-metrics.js';

/**
 * The Bus for injection, `/readyz` reporting whether NATS answers, and the backbone's metrics
 * (consumer lag, queue depth, dead letters) in `/metrics`. Every service wants all three.
 */
export function busProviders(bus: Bus): Provider[] {
  return [
    { provide: Bus, useValue: bus },
    {
      provide: 'bus-readiness',
      inject: [Readiness],
      useFactory: (r: Readiness) => r.register('nats', () => bus.healthCheck()),
    },
    { provide: 'bus-metrics', inject: [Registry], useFactory: (r: Registry) => registerBusMetrics(bus, r) },
  ];
}
