import type { Provider } from '@nestjs/common';
import { Readiness } from '@capstan/platform';
import { Bus } from './bus.js';

/** The Bus for injection, and `/readyz` reporting whether NATS answers. Every service wants both. */
export function busProviders(bus: Bus): Provider[] {
  return [
    { provide: Bus, useValue: bus },
    {
      provide: 'bus-readiness',
      inject: [Readiness],
      useFactory: (r: Readiness) => r.register('nats', () => bus.healthCheck()),
    },
  ];
}
