import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Prisma } from '@capstan/db';
import { CLOCK, type Clock } from '@capstan/platform';
import type { ChainedDecision } from '../domain/decision-record.js';
import { matchesFilter, subjectKeyOf } from './filter.js';
import { OutboxRepository, type NewDelivery } from './outbox.repository.js';
import { cdeventOf } from './payload.js';
import { PollLoop } from './poll-loop.js';
import { COMMIT_STATUS_FORMATS, type Subscription, type SubscriptionFormat } from './subscription.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { WEBHOOK_OPTIONS, type WebhookOptions } from './subscriptions.config.js';

export const FANOUT_CURSOR = 'webhooks';
const BATCH = 500;

/** Whether the format has something to send for the decision (see webhookMessage). */
function hasMessage(format: SubscriptionFormat, d: ChainedDecision): boolean {
  if (format === 'cdevents') return cdeventOf(d) !== null;
  if (COMMIT_STATUS_FORMATS.has(format)) return d.source !== null;
  return true;
}

/** The deliveries a batch of decisions makes for the given subscriptions, in decision order. */
export function deliveriesFor(
  decisions: readonly ChainedDecision[],
  subscriptions: readonly Subscription[],
): NewDelivery[] {
  return decisions.flatMap((d) =>
    subscriptions
      .filter((s) => matchesFilter(s.filter, s.namespace, d, s.scope) && hasMessage(s.format, d))
      .map((s) => ({ subscription: s.key, decisionSeq: d.seq, subjectKey: subjectKeyOf(d) })),
  );
}

/**
 * Decision log -> outbox. Follows the log with a Postgres cursor and writes the matching
 * deliveries in the same transaction that moves the cursor, so each decision is fanned out
 * exactly once whatever the number of replicas or crashes. Suspended subscriptions still get
 * rows: they go out, in order, on resume.
 */
@Injectable()
export class WebhookFanout implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollLoop;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly registry: SubscriptionRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOK_OPTIONS) options: WebhookOptions,
  ) {
    this.loop = new PollLoop('webhook fan-out', options.pollMs, () => this.step());
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** Called after a batch was written, so workers can look at once. */
  onEnqueued(listener: () => void): void {
    this.listeners.add(listener);
  }

  async step(): Promise<boolean> {
    const subscriptions = this.registry.all();
    let enqueued = 0;
    // Without Subscriptions nothing is delivered: move past the decisions without reading them
    // (each costs a row read and its targets; at thousands of decisions a second that shows).
    const handle =
      subscriptions.length === 0
        ? null
        : async (decisions: ChainedDecision[], tx: Prisma.TransactionClient) => {
            const rows = deliveriesFor(decisions, subscriptions);
            enqueued = rows.length;
            await this.outbox.enqueue(tx, rows, this.clock.now());
          };
    const n = await this.outbox.relay(FANOUT_CURSOR, BATCH, this.clock.now(), handle);
    if (enqueued > 0) for (const l of this.listeners) l();
    return n === BATCH;
  }
}
