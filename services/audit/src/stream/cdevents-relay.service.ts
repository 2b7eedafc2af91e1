import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { headers } from '@nats-io/nats-core';
import { publishAll, type Bus, type OutgoingMessage } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import type { ChainedDecision } from '../domain/decision-record.js';
import { BUS } from '../messaging.js';
import { RecentDecisions } from '../persistence/recent-decisions.js';
import { OutboxRepository } from '../subscriptions/outbox.repository.js';
import { cdeventOf } from '../subscriptions/payload.js';
import { PollLoop } from '../subscriptions/poll-loop.js';
import { STREAM_OPTIONS, type StreamOptions } from './stream.config.js';

export const CDEVENTS_CURSOR = 'cdevents';
/** One ingest batch: a relay that keeps up takes each commit whole, from memory. */
const BATCH = 500;

/**
 * Republishes every recorded decision that has a CDEvent on `<prefix>.cdevents.<type>`, following
 * the log with a Postgres cursor, a batch at a time, in log order (one connection's publishes are
 * stored in the order sent; after a failed publish, the retried batch's missing ones land later).
 * Decisions this replica committed come from memory (RecentDecisions), the rest from Postgres.
 * Nats-Msg-Id is the CDEvent's deterministic id, so a batch published again after a crash (before
 * its cursor moved) is dropped by the stream's duplicate window.
 */
@Injectable()
export class CdeventsRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollLoop;
  private unsubscribe?: () => void;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly outbox: OutboxRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(STREAM_OPTIONS) options: StreamOptions,
    @Optional() private readonly recent?: RecentDecisions,
  ) {
    this.loop = new PollLoop('cdevents relay', options.pollMs, () => this.step());
  }

  onApplicationBootstrap(): void {
    // A batch this replica committed is relayed at once, from memory; other replicas' at the next poll.
    this.unsubscribe = this.recent?.onAdded(() => this.loop.wake());
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.loop.stop();
  }

  async step(): Promise<boolean> {
    const n = await this.outbox.relayOutward(CDEVENTS_CURSOR, BATCH, this.clock.now(), async (decisions) => {
      // All of the batch at once, then every acknowledgement (publishAll): a failure fails the
      // batch, the cursor stays, and the retry's duplicates are dropped by their Nats-Msg-Id.
      await publishAll(
        this.bus.nc,
        decisions.flatMap((d) => this.messageOf(d) ?? []),
      );
    });
    return n === BATCH;
  }

  private messageOf(d: ChainedDecision): OutgoingMessage | null {
    const event = cdeventOf(d);
    if (!event) return null;
    const h = headers();
    h.set('Content-Type', 'application/json');
    h.set('ce-specversion', '1.0');
    h.set('ce-id', event.context.id);
    h.set('ce-type', event.context.type);
    h.set('ce-source', event.context.source);
    return {
      subject: this.bus.topology.cdeventSubject(event.context.type),
      data: JSON.stringify(event),
      msgID: event.context.id,
      headers: h,
    };
  }
}
