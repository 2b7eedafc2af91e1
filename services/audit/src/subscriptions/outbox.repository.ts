import { Inject, Injectable, Optional } from '@nestjs/common';
import { inTransaction, Prisma, type PgPool, type PrismaClient } from '@capstan/db';
import type { ChainedDecision } from '../domain/decision-record.js';
import { fromRow } from '../persistence/decision-row.js';
import {
  decisionsAfter,
  queryDecisionRows,
  type DecisionSelectRow,
} from '../persistence/decision-select.sql.js';
import { PG_POOL, PRISMA } from '../persistence/prisma.provider.js';
import { RecentDecisions } from '../persistence/recent-decisions.js';

/** Decisions kept for claims; a few batches of fan-out. */
const DECISION_CACHE_SIZE = 2_000;

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface NewDelivery {
  subscription: string;
  decisionSeq: bigint;
  subjectKey: string;
}

/** A claimed delivery with the decision it carries. `attempt` already counts the attempt being made. */
export interface ClaimedDelivery {
  id: bigint;
  subscription: string;
  attempt: number;
  decision: ChainedDecision;
}

export interface DeliveryRow {
  id: bigint;
  subscription: string;
  decisionSeq: bigint;
  subjectKey: string;
  attempt: number;
  status: string;
  nextAttemptAt: Date;
  lastError: string | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  replay: boolean;
}

export interface SubscriptionCounts {
  pending: number;
  failing: number;
  dead: number;
  lastDelivered: { seq: bigint; eventId: string; time: Date } | null;
  lastFailure: { time: Date; message: string } | null;
}

/** Postgres adapter for the webhook outbox and the relay cursors over the decision log. */
@Injectable()
export class OutboxRepository {
  private readonly decisionCache = new Map<bigint, ChainedDecision>();

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    /** The relays' reads: every decision passes through each relay, and Prisma's row handling showed. */
    @Inject(PG_POOL) private readonly pool: PgPool,
    /** What this process committed lately: the relays take it from here rather than read it back. */
    @Optional() private readonly recent?: RecentDecisions,
  ) {}

  /** Cursors known to exist: their row is not inserted again on each step. */
  private readonly cursorsCreated = new Set<string>();

  /** For writes outside a relay transaction (replay). */
  get client(): PrismaClient {
    return this.prisma;
  }

  /**
   * Runs `handle` on the decisions after the cursor `name`, at most `limit`, in seq order, and moves
   * the cursor past them, in one transaction holding the cursor row: replicas take turns (a
   * replica that finds the row locked skips this round) and a failed batch is retried whole.
   * A cursor seen for the first time starts at the head of the log: relays send what happens
   * from now on; history is what replay is for. `handle` null means nobody wants these decisions
   * (no Subscription exists): the cursor moves to the head without reading them.
   */
  async relay(
    name: string,
    limit: number,
    now: Date,
    handle: ((decisions: ChainedDecision[], tx: Prisma.TransactionClient) => Promise<void>) | null,
  ): Promise<number> {
    await this.ensureCursor(name, now);
    if (handle === null) {
      await this.prisma.$executeRaw`
        UPDATE decision_cursors c SET seq = h.seq, updated_at = ${now}
          FROM (SELECT MAX(seq) AS seq FROM decisions) h
         WHERE c.name = ${name} AND h.seq > c.seq`;
      return 0;
    }
    return this.prisma.$transaction(
      async (tx) => {
        const [cursor] = await tx.$queryRaw<{ seq: bigint }[]>`
          SELECT seq FROM decision_cursors WHERE name = ${name} FOR UPDATE SKIP LOCKED`;
        if (!cursor) return 0;
        const decisions = await this.decisionsAfter(cursor.seq, limit);
        const last = decisions.at(-1);
        if (!last) return 0;
        await handle(decisions, tx);
        await tx.$executeRaw`UPDATE decision_cursors SET seq = ${last.seq}, updated_at = ${now} WHERE name = ${name}`;
        return decisions.length;
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
  }

  /**
   * relay for a relay whose effect is outside Postgres (the CDEvents publisher): the same cursor
   * transaction, through pg instead of a Prisma interactive transaction, whose own work per step
   * was ~3 ms of the service's CPU (~15 us a decision at full ingest).
   */
  async relayOutward(
    name: string,
    limit: number,
    now: Date,
    send: (decisions: ChainedDecision[]) => Promise<void>,
  ): Promise<number> {
    await this.ensureCursor(name, now);
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ seq: string }>(
        'SELECT seq FROM decision_cursors WHERE name = $1 FOR UPDATE SKIP LOCKED',
        [name],
      );
      const cursor = rows[0];
      const decisions = cursor ? await this.decisionsAfter(BigInt(cursor.seq), limit) : [];
      const last = decisions.at(-1);
      if (last) {
        await send(decisions);
        await client.query('UPDATE decision_cursors SET seq = $1, updated_at = $2 WHERE name = $3', [
          last.seq.toString(),
          now,
          name,
        ]);
      }
      return decisions.length;
    });
  }

  private async ensureCursor(name: string, now: Date): Promise<void> {
    if (this.cursorsCreated.has(name)) return;
    await this.prisma.$executeRaw`
      INSERT INTO decision_cursors (name, seq, updated_at)
      SELECT ${name}, COALESCE(MAX(seq), 0), ${now} FROM decisions
      ON CONFLICT (name) DO NOTHING`;
    this.cursorsCreated.add(name);
  }

  /**
   * The decisions after a relay's cursor. What this process committed itself comes from memory.
   * Else one statement, targets folded in, through pg: findMany with its targets cost two
   * statements and most of the relay's CPU. (Decisions never change, so reading them outside the
   * cursor's transaction is safe.)
   */
  private async decisionsAfter(seq: bigint, limit: number): Promise<ChainedDecision[]> {
    const recent = this.recent?.after(seq, limit) ?? [];
    if (recent.length > 0) return recent;
    return (await queryDecisionRows<DecisionSelectRow>(this.pool, decisionsAfter(seq, limit))).map(fromRow);
  }

  async enqueue(
    tx: Prisma.TransactionClient | PrismaClient,
    deliveries: NewDelivery[],
    now: Date,
    replay = false,
  ): Promise<void> {
    if (deliveries.length === 0) return;
    await tx.webhookDelivery.createMany({
      data: deliveries.map((d) => ({ ...d, nextAttemptAt: now, createdAt: now, replay })),
    });
  }

  /**
   * Claims up to `limit` due deliveries of the given subscriptions and leases them until
   * `leaseUntil`. Only the oldest pending row of each (subscription, subject key) is claimable,
   * which is what keeps a subject in order; SKIP LOCKED and the lease keep two replicas from
   * sending the same row.
   *
   * WHY per subscription: one global "pending rows by id" scan visits every pending row and
   * probes its key on each claim (seconds with a 20,000-row backlog). Walking each
   * subscription's (subscription, status, id) index and stopping after `perSubscription`
   * claimable rows visits only a few rows per subscription, and keeps one busy subscription
   * from taking every slot. Rows are locked in a second step, where SKIP LOCKED and the
   * re-checked status/lease drop rows another replica took meanwhile.
   */
  async claim(
    subscriptions: string[],
    limit: number,
    now: Date,
    leaseUntil: Date,
    perSubscription = limit,
  ): Promise<ClaimedDelivery[]> {
    if (subscriptions.length === 0 || limit <= 0) return [];
    const claimed = await this.prisma.$queryRaw<
      { id: bigint; subscription: string; attempt: number; decision_seq: bigint }[]
    >`
      WITH candidates AS (
        SELECT c.id FROM unnest(${subscriptions}::text[]) AS s(name)
        CROSS JOIN LATERAL (
          SELECT d.id FROM webhook_deliveries d
           WHERE d.subscription = s.name
             AND d.status = 'pending'
             AND d.next_attempt_at <= ${now}
             AND (d.leased_until IS NULL OR d.leased_until <= ${now})
             AND NOT EXISTS (
               SELECT 1 FROM webhook_deliveries e
                WHERE e.subscription = d.subscription AND e.subject_key = d.subject_key
                  AND e.status = 'pending' AND e.id < d.id)
           ORDER BY d.id
           LIMIT ${perSubscription}) c
        ORDER BY c.id
        LIMIT ${limit}),
      due AS (
        SELECT w.id FROM webhook_deliveries w
         WHERE w.id IN (SELECT id FROM candidates)
           AND w.status = 'pending'
           AND (w.leased_until IS NULL OR w.leased_until <= ${now})
         FOR UPDATE SKIP LOCKED)
      UPDATE webhook_deliveries w
         SET leased_until = ${leaseUntil}, attempt = w.attempt + 1, last_attempt_at = ${now}
        FROM due WHERE w.id = due.id
      RETURNING w.id, w.subscription, w.attempt, w.decision_seq`;
    if (claimed.length === 0) return [];
    const bySeq = await this.decisions([...new Set(claimed.map((c) => c.decision_seq))]);
    return claimed
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .flatMap((c) => {
        const decision = bySeq.get(c.decision_seq);
        return decision ? [{ id: c.id, subscription: c.subscription, attempt: c.attempt, decision }] : [];
      });
  }

  /**
   * Decisions by seq, through a small cache: a decision fans out to every subscription, so the
   * rows of one claim mostly carry the same few decisions, and a recorded decision never changes
   * (the hash chain forbids it), so a cached one is never stale.
   */
  private async decisions(seqs: bigint[]): Promise<Map<bigint, ChainedDecision>> {
    const found = new Map<bigint, ChainedDecision>();
    const missing: bigint[] = [];
    for (const seq of seqs) {
      const hit = this.decisionCache.get(seq);
      if (hit) found.set(seq, hit);
      else missing.push(seq);
    }
    if (missing.length === 0) return found;
    const rows = await this.prisma.decision.findMany({
      where: { seq: { in: missing } },
      include: { targets: true },
    });
    for (const row of rows) {
      const d = fromRow(row);
      found.set(d.seq, d);
      this.decisionCache.set(d.seq, d);
    }
    // Map keeps insertion order: drop the oldest entries past the cap.
    for (const seq of this.decisionCache.keys()) {
      if (this.decisionCache.size <= DECISION_CACHE_SIZE) break;
      this.decisionCache.delete(seq);
    }
    return found;
  }

  async markDelivered(id: bigint, now: Date): Promise<void> {
    await this.markManyDelivered([{ id, at: now }]);
  }

  /** Successful sends, recorded in one statement (each row keeps its own delivery time). */
  async markManyDelivered(rows: readonly { id: bigint; at: Date }[]): Promise<void> {
    if (rows.length === 0) return;
    const ids = rows.map((r) => r.id);
    const ats = rows.map((r) => r.at);
    await this.prisma.$executeRaw`
      UPDATE webhook_deliveries w
         SET status = 'delivered', delivered_at = v.at, leased_until = NULL, last_error = NULL
        FROM unnest(${ids}::bigint[], ${ats}::timestamptz[]) AS v(id, at)
       WHERE w.id = v.id`;
  }

  /** A failed attempt: back to pending with a later due time, or dead. */
  async markFailed(
    id: bigint,
    error: string,
    next: { status: 'dead' } | { status: 'pending'; at: Date },
  ): Promise<void> {
    const nextAt = next.status === 'pending' ? next.at : null;
    await this.prisma.$executeRaw`
      UPDATE webhook_deliveries
         SET status = ${next.status}, leased_until = NULL, last_error = ${error.slice(0, 2000)},
             next_attempt_at = COALESCE(${nextAt}::timestamptz, next_attempt_at)
       WHERE id = ${id}`;
  }

  async list(
    subscription: string,
    status: DeliveryStatus | undefined,
    limit: number,
    beforeId?: bigint,
  ): Promise<DeliveryRow[]> {
    return this.prisma.webhookDelivery.findMany({
      where: {
        subscription,
        ...(status === undefined ? {} : { status }),
        ...(beforeId === undefined ? {} : { id: { lt: beforeId } }),
      },
      orderBy: { id: 'desc' },
      take: limit,
    });
  }

  /** Dead deliveries back to pending with fresh attempts; `ids` empty means all of the subscription's. */
  async redrive(subscription: string, ids: bigint[], now: Date): Promise<number> {
    const only = ids.length === 0 ? Prisma.empty : Prisma.sql`AND id = ANY(${ids}::bigint[])`;
    return this.prisma.$executeRaw`
      UPDATE webhook_deliveries SET status = 'pending', attempt = 0, next_attempt_at = ${now}, leased_until = NULL
       WHERE subscription = ${subscription} AND status = 'dead' ${only}`;
  }

  /** Decisions made at or after `since`, oldest first, a batch after `afterSeq`, for replay. */
  async decisionsSince(since: Date, afterSeq: bigint, limit: number): Promise<ChainedDecision[]> {
    const rows = await this.prisma.decision.findMany({
      where: { time: { gte: since }, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
      include: { targets: true },
    });
    return rows.map(fromRow);
  }

  /**
   * Delivery counts of many subscriptions in one round trip (the status flush runs it every
   * second, so it must not cost a query per subscription). Subscriptions without rows get zeros.
   */
  async counts(subscriptions: readonly string[]): Promise<Map<string, SubscriptionCounts>> {
    const result = new Map<string, SubscriptionCounts>();
    if (subscriptions.length === 0) return result;
    const rows = await this.prisma.$queryRaw<
      {
        name: string;
        pending: bigint;
        failing: bigint;
        dead: bigint;
        delivered_seq: bigint | null;
        delivered_event_id: string | null;
        delivered_at: Date | null;
        failed_at: Date | null;
        failure: string | null;
      }[]
    >`
      SELECT s.name, c.pending, c.failing, c.dead,
             ld.seq AS delivered_seq, ld.event_id AS delivered_event_id, ld.delivered_at,
             lf.last_attempt_at AS failed_at, lf.last_error AS failure
        FROM unnest(${[...subscriptions]}::text[]) AS s(name)
        CROSS JOIN LATERAL (
          SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
                 count(*) FILTER (WHERE status = 'pending' AND attempt > 0 AND last_error IS NOT NULL) AS failing,
                 count(*) FILTER (WHERE status = 'dead') AS dead
            FROM webhook_deliveries WHERE subscription = s.name AND status IN ('pending', 'dead')) c
        LEFT JOIN LATERAL (
          SELECT w.decision_seq AS seq, d.event_id, w.delivered_at
            FROM webhook_deliveries w JOIN decisions d ON d.seq = w.decision_seq
           WHERE w.subscription = s.name AND w.status = 'delivered'
           ORDER BY w.delivered_at DESC, w.id DESC LIMIT 1) ld ON true
        LEFT JOIN LATERAL (
          SELECT last_attempt_at, last_error FROM webhook_deliveries
           WHERE subscription = s.name AND last_error IS NOT NULL AND last_attempt_at IS NOT NULL
           ORDER BY last_attempt_at DESC LIMIT 1) lf ON true`;
    for (const r of rows)
      result.set(r.name, {
        pending: Number(r.pending),
        failing: Number(r.failing),
        dead: Number(r.dead),
        lastDelivered:
          r.delivered_seq !== null && r.delivered_event_id !== null && r.delivered_at !== null
            ? { seq: r.delivered_seq, eventId: r.delivered_event_id, time: r.delivered_at }
            : null,
        lastFailure:
          r.failed_at !== null && r.failure !== null ? { time: r.failed_at, message: r.failure } : null,
      });
    return result;
  }
}
