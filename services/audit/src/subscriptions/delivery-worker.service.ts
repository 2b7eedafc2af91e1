import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CLOCK, capstanGauge, type Clock } from '@capstan/platform';
import { AuditMetrics } from '../observability/audit-metrics.js';
import { OutboxRepository, type ClaimedDelivery } from './outbox.repository.js';
import { CompletionBatch } from './completion-batch.js';
import { webhookMessage, type WebhookMessage } from './payload.js';
import { PollLoop } from './poll-loop.js';
import { afterFailure } from './retry.js';
import { SecretCache } from './secret-cache.js';
import type { SubscriptionFormat } from './subscription.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { SECRET_CACHE, SubscriptionWatcher } from './subscription-watcher.service.js';
import { WEBHOOK_OPTIONS, type WebhookOptions } from './subscriptions.config.js';
import { WEBHOOK_SENDER, type WebhookSender } from './webhook-sender.js';
import { WebhookFanout } from './webhook-fanout.service.js';

/** Webhook messages kept per (decision, format): every subscription of a decision sends the same body. */
const MESSAGE_CACHE_SIZE = 2_000;

/**
 * Outbox -> receivers. Keeps up to `concurrency` deliveries in flight: whenever a quarter of the
 * slots is free it claims that many due rows (one per subscription and subject at a time, see
 * OutboxRepository.claim) and starts them, without waiting for the slowest of the previous
 * batch. Successes are recorded in batches (CompletionBatch); a row keeps its slot and its lease
 * until its outcome is written, so it is never claimed twice and the next row of its subject
 * becomes claimable only after it is recorded delivered. Failures: retry later with backoff, or
 * dead after the last attempt.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly loop: PollLoop;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly delivered: CompletionBatch<{ id: bigint; at: Date }>;
  private readonly messages = new Map<string, WebhookMessage | null>();
  /** Resolves the loop's wait for a free slot. */
  private slotFreed?: () => void;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly registry: SubscriptionRegistry,
    private readonly watcher: SubscriptionWatcher,
    fanout: WebhookFanout,
    @Inject(SECRET_CACHE) private readonly secrets: SecretCache,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
    private readonly metrics: AuditMetrics,
  ) {
    capstanGauge(metrics.registry, 'webhookOutbox', async (set) => {
      let pending = 0;
      let dead = 0;
      for (const c of (await outbox.counts(registry.all().map((s) => s.key))).values()) {
        pending += c.pending;
        dead += c.dead;
      }
      set({ status: 'pending' }, pending);
      set({ status: 'dead' }, dead);
    });
    this.loop = new PollLoop('webhook delivery', options.pollMs, () => this.step());
    this.delivered = new CompletionBatch((rows) => this.outbox.markManyDelivered(rows));
    fanout.onEnqueued(() => this.loop.wake());
    registry.onChange(() => this.loop.wake());
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    const stopping = this.loop.stop();
    this.slotFreed?.();
    await stopping;
    await Promise.all(this.inFlight);
    await this.delivered.idle();
  }

  /**
   * One round: wait for enough free slots, claim that many and start them. True when it claimed
   * something (more may be due, so the loop goes again at once); false lets the loop idle until
   * woken (new rows, a recorded delivery) or the poll interval.
   */
  async step(): Promise<boolean> {
    const capacity = this.options.concurrency;
    const threshold = Math.max(1, Math.floor(capacity / 4));
    while (capacity - this.inFlight.size < threshold) {
      await new Promise<void>((resolve) => (this.slotFreed = resolve));
      this.slotFreed = undefined;
      if (this.stopping()) return false;
    }
    const free = capacity - this.inFlight.size;
    const now = this.clock.now();
    // The lease outlives the send timeout, so a live worker never loses a row it is sending.
    const leaseUntil = new Date(now.getTime() + 2 * this.options.timeoutMs + 5_000);
    const active = this.registry.active().map((s) => s.key);
    // A fair share per subscription (twice the even split) keeps one backlog from taking every
    // slot and keeps the claim cheap; a busy subscription gets more on the next, immediate round.
    const perSubscription = Math.min(free, Math.max(1, Math.ceil((2 * free) / Math.max(1, active.length))));
    const claimed = await this.outbox.claim(active, free, now, leaseUntil, perSubscription);
    for (const d of claimed) {
      const running: Promise<void> = this.deliver(d).finally(() => {
        this.inFlight.delete(running);
        this.slotFreed?.();
        // A recorded delivery may make the next row of its subject claimable.
        this.loop.wake();
      });
      this.inFlight.add(running);
    }
    return claimed.length > 0;
  }

  private stopping = (): boolean => this.loop.isStopping();

  private message(d: ClaimedDelivery, format: SubscriptionFormat): WebhookMessage | null {
    const key = `${d.decision.seq}:${format}`;
    if (this.messages.has(key)) return this.messages.get(key) ?? null;
    const message = webhookMessage(d.decision, format, { consoleUrl: this.options.consoleUrl });
    this.messages.set(key, message);
    for (const k of this.messages.keys()) {
      if (this.messages.size <= MESSAGE_CACHE_SIZE) break;
      this.messages.delete(k);
    }
    return message;
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const sub = this.registry.get(d.subscription);
    const fail = async (error: string) => {
      const next = afterFailure(
        d.attempt,
        {
          maxAttempts: this.options.maxAttempts,
          baseMs: this.options.backoffBaseMs,
          maxMs: this.options.backoffMaxMs,
        },
        Math.random(),
      );
      this.metrics.delivered(d.subscription, next.status === 'dead' ? 'dead' : 'failure');
      await this.outbox.markFailed(
        d.id,
        error,
        next.status === 'dead'
          ? next
          : { status: 'pending', at: new Date(this.clock.now().getTime() + next.retryInMs) },
      );
      if (next.status === 'dead')
        this.logger.warn(
          `delivery ${d.id} of decision #${d.decision.seq} to ${d.subscription} dead-lettered: ${error}`,
        );
    };
    try {
      if (!sub) return await fail('subscription no longer exists');
      const message = this.message(d, sub.format);
      // Nothing to send in this format (no CDEvent, no commit for a status), e.g. after the
      // format changed since the row was written.
      if (message === null) return await this.delivered.add({ id: d.id, at: this.clock.now() });
      let secret: string | null = null;
      if (sub.secretRef) {
        secret = await this.secrets.token(sub.namespace, sub.secretRef.name);
        if (secret === null)
          return await fail(`secret ${sub.namespace}/${sub.secretRef.name} has no key "token"`);
      }
      const result = await this.sender.send(sub.url, message, secret);
      if (result.ok) {
        this.metrics.delivered(d.subscription, 'success');
        await this.delivered.add({ id: d.id, at: this.clock.now() });
      } else await fail(result.error);
    } catch (e) {
      // The outcome could not be recorded; the lease runs out and the row is tried again.
      this.logger.warn(`delivery ${d.id}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.watcher.touched(d.subscription);
    }
  }
}
