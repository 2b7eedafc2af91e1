import type { Provider, Type } from '@nestjs/common';
import { OutboxRepository } from '../subscriptions/outbox.repository.js';
import { CdeventsRelay } from './cdevents-relay.service.js';
import { DecisionFeed } from './decision-feed.repository.js';
import { EventsStreamController } from './events-stream.controller.js';
import { STREAM_OPTIONS, type StreamOptions } from './stream.config.js';

/** The SSE stream, and with a bus the CDEvents publisher. */
export function streamProviders(options: StreamOptions, withBus: boolean): Provider[] {
  return [
    { provide: STREAM_OPTIONS, useValue: options },
    DecisionFeed,
    OutboxRepository,
    ...(withBus ? [CdeventsRelay] : []),
  ];
}

export const streamControllers: Type[] = [EventsStreamController];
