import { Controller, Get, HttpCode, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { z } from 'zod';
import { CLOCK, type Clock } from '@capstan/platform';
import { AuditAuth } from '../auth/audit-auth.service.js';
import type { Caller } from '../auth/access.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import { limitParam, nonEmpty, timestampParam, ZodParamsPipe } from '../http/query-validation.js';
import { deliveriesFor } from './webhook-fanout.service.js';
import { OutboxRepository, type DeliveryRow } from './outbox.repository.js';
import { subscriptionKey, type Subscription } from './subscription.js';
import { SubscriptionRegistry } from './subscription-registry.js';

const SubscriptionParams = z.object({ namespace: nonEmpty, name: nonEmpty });
type SubscriptionParams = z.infer<typeof SubscriptionParams>;
const DeliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'dead']).optional(),
  limit: limitParam,
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/, 'must be a delivery id')
    .transform(BigInt)
    .optional(),
});
const ReplayQuery = z.strictObject({ since: timestampParam });
const RedriveQuery = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/, 'must be a delivery id')
    .transform(BigInt)
    .optional(),
});

export interface DeliveryView {
  id: string;
  decisionSeq: number;
  subjectKey: string;
  status: string;
  attempt: number;
  nextAttemptAt: string;
  lastAttemptAt: string | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
  replay: boolean;
}

const view = (r: DeliveryRow): DeliveryView => ({
  id: r.id.toString(),
  decisionSeq: Number(r.decisionSeq),
  subjectKey: r.subjectKey,
  status: r.status,
  attempt: r.attempt,
  nextAttemptAt: r.nextAttemptAt.toISOString(),
  lastAttemptAt: r.lastAttemptAt?.toISOString() ?? null,
  lastError: r.lastError,
  deliveredAt: r.deliveredAt?.toISOString() ?? null,
  createdAt: r.createdAt.toISOString(),
  replay: r.replay,
});

const REPLAY_BATCH = 500;

/**
 * Webhook deliveries of one Subscription: list them (dead letters included), re-drive dead ones,
 * replay decisions from a point in time. Reading or replaying decisions of a subscription needs
 * the same audit access as reading decisions in its namespace.
 */
@Controller('api/v1/subscriptions')
@UseGuards(BearerAuthGuard)
export class SubscriptionsController {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly registry: SubscriptionRegistry,
    private readonly auth: AuditAuth,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':namespace/:name/deliveries')
  async deliveries(
    @CurrentCaller() caller: Caller,
    @Param(new ZodParamsPipe(SubscriptionParams)) p: SubscriptionParams,
    @Query(new ZodParamsPipe(DeliveriesQuery)) q: z.infer<typeof DeliveriesQuery>,
  ): Promise<{ items: DeliveryView[] }> {
    await this.auth.requireAny(caller, [p.namespace]);
    const rows = await this.outbox.list(subscriptionKey(p.namespace, p.name), q.status, q.limit, q.before);
    return { items: rows.map(view) };
  }

  /** Dead deliveries back into the queue with fresh attempts: all of them, or `?id=` one. */
  @Post(':namespace/:name/redrive')
  @HttpCode(200)
  async redrive(
    @CurrentCaller() caller: Caller,
    @Param(new ZodParamsPipe(SubscriptionParams)) p: SubscriptionParams,
    @Query(new ZodParamsPipe(RedriveQuery)) q: z.infer<typeof RedriveQuery>,
  ): Promise<{ redriven: number }> {
    await this.auth.requireAny(caller, [p.namespace]);
    const redriven = await this.outbox.redrive(
      subscriptionKey(p.namespace, p.name),
      q.id === undefined ? [] : [q.id],
      this.clock.now(),
    );
    return { redriven };
  }

  /**
   * Enqueues again every decision made at or after `since` that the subscription's filter
   * matches, oldest first, behind whatever is already queued for the same subject.
   */
  @Post(':namespace/:name/replay')
  @HttpCode(202)
  async replay(
    @CurrentCaller() caller: Caller,
    @Param(new ZodParamsPipe(SubscriptionParams)) p: SubscriptionParams,
    @Query(new ZodParamsPipe(ReplayQuery)) q: z.infer<typeof ReplayQuery>,
  ): Promise<{ enqueued: number; throughSeq: number | null }> {
    await this.auth.requireAny(caller, [p.namespace]);
    const sub = this.known(p);
    let afterSeq = 0n;
    let enqueued = 0;
    for (;;) {
      const batch = await this.outbox.decisionsSince(q.since, afterSeq, REPLAY_BATCH);
      const last = batch.at(-1);
      if (!last) break;
      const rows = deliveriesFor(batch, [sub]);
      await this.outbox.enqueue(this.outbox.client, rows, this.clock.now(), true);
      enqueued += rows.length;
      afterSeq = last.seq;
      if (batch.length < REPLAY_BATCH) break;
    }
    return { enqueued, throughSeq: afterSeq === 0n ? null : Number(afterSeq) };
  }

  private known(p: SubscriptionParams): Subscription {
    const sub = this.registry.get(subscriptionKey(p.namespace, p.name));
    if (!sub)
      throw new NotFoundException(`Subscription ${p.namespace}/${p.name} is not known to the audit service`);
    return sub;
  }
}
