import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient } from '@capstan/db';
import { chainHash, GENESIS_HASH, type ChainLink } from '../domain/chain.js';
import type { ChainedDecision, DecisionRecord } from '../domain/decision-record.js';
import type { DecisionFilter, ObjectRefKey, Page } from '../domain/decision-query.js';
import { fromRow, toRow } from './decision-row.js';
import { PRISMA } from './prisma.provider.js';

/**
 * Serializes appends across every audit replica for the length of one transaction, so each new
 * row reads the true chain head and no two rows ever claim the same predecessor.
 * (Arbitrary constant; single-bigint advisory keys do not collide with two-int ones.)
 */
const CHAIN_LOCK_KEY = 0x63617073_74616e31n; // "capstan1"

export type AppendResult =
  { status: 'recorded'; seq: bigint; hash: string } | { status: 'duplicate'; seq: bigint };

/** One decision as seen from one object it touched. */
export interface ObjectHistoryRow {
  decision: ChainedDecision;
  apiVersion: string;
  objectAction: string | null;
}

/** Postgres adapter for the decision log: chained appends and the queries behind the API. */
@Injectable()
export class DecisionRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /**
   * Appends under the chain lock. An event id already in the log is a duplicate: reported,
   * nothing written. The decision row, its targets and the link are one transaction.
   */
  async append(record: DecisionRecord): Promise<AppendResult> {
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`;
        const existing = await tx.decision.findUnique({
          where: { eventId: record.eventId },
          select: { seq: true },
        });
        if (existing) return { status: 'duplicate', seq: existing.seq };

        const head = await tx.decision.findFirst({ orderBy: { seq: 'desc' }, select: { hash: true } });
        const prevHash = head?.hash ?? GENESIS_HASH;
        const hash = chainHash(prevHash, record);
        const { seq } = await tx.decision.create({
          data: toRow(record, prevHash, hash),
          select: { seq: true },
        });
        if (record.targets.length > 0) {
          await tx.decisionTarget.createMany({
            data: record.targets.map((t) => ({ decisionId: record.id, decisionSeq: seq, ...t })),
          });
        }
        return { status: 'recorded', seq, hash };
      },
      // Appends queue on the lock; give a burst from several replicas time to drain.
      { timeout: 30_000, maxWait: 10_000 },
    );
  }

  /** Newest first. */
  async list(filter: DecisionFilter, page: Page): Promise<ChainedDecision[]> {
    const rows = await this.prisma.decision.findMany({
      where: {
        AND: [
          ...whereFilter(filter),
          ...(page.beforeSeq === undefined ? [] : [{ seq: { lt: page.beforeSeq } }]),
        ],
      },
      orderBy: { seq: 'desc' },
      take: page.limit,
      include: { targets: true },
    });
    return rows.map(fromRow);
  }

  /**
   * Every decision that touched the object, newest first, one entry per decision even if it
   * touched the object under two API versions. Walks decision_targets_object_history_idx.
   */
  async objectHistory(object: ObjectRefKey, page: Page): Promise<ObjectHistoryRow[]> {
    const before =
      page.beforeSeq === undefined ? Prisma.empty : Prisma.sql`AND decision_seq < ${page.beforeSeq}`;
    const touches = await this.prisma.$queryRaw<
      { decision_seq: bigint; api_version: string; action: string | null }[]
    >`
      SELECT DISTINCT ON (decision_seq) decision_seq, api_version, action
        FROM decision_targets
       WHERE namespace = ${object.namespace} AND kind = ${object.kind} AND name = ${object.name} ${before}
       ORDER BY decision_seq DESC, api_version
       LIMIT ${page.limit}`;
    if (touches.length === 0) return [];
    const decisions = await this.prisma.decision.findMany({
      where: { seq: { in: touches.map((t) => t.decision_seq) } },
      include: { targets: true },
    });
    const bySeq = new Map(decisions.map((d) => [d.seq, fromRow(d)]));
    return touches.flatMap((t) => {
      const decision = bySeq.get(t.decision_seq);
      return decision ? [{ decision, apiVersion: t.api_version, objectAction: t.action }] : [];
    });
  }

  /** A batch of chain links in seq order, after `afterSeq`, for verification. */
  async chainLinks(afterSeq: bigint | null, size: number): Promise<ChainLink[]> {
    const rows = await this.prisma.decision.findMany({
      where: afterSeq === null ? {} : { seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: size,
      include: { targets: true },
    });
    return rows.map((row) => {
      const record = fromRow(row);
      return { seq: record.seq, prevHash: record.prevHash, hash: record.hash, record };
    });
  }
}

function whereFilter(f: DecisionFilter): Prisma.DecisionWhereInput[] {
  const where: Prisma.DecisionWhereInput[] = [];
  if (f.namespace !== undefined || f.kind !== undefined || f.name !== undefined) {
    where.push({
      targets: {
        some: {
          ...(f.namespace === undefined ? {} : { namespace: f.namespace }),
          ...(f.kind === undefined ? {} : { kind: f.kind }),
          ...(f.name === undefined ? {} : { name: f.name }),
        },
      },
    });
  }
  if (f.revision !== undefined)
    where.push({ OR: [{ sourceRevision: f.revision }, { sourceSha: f.revision }] });
  if (f.actor !== undefined) {
    where.push({ OR: [{ actorName: f.actor }, { actorEmail: { equals: f.actor, mode: 'insensitive' } }] });
  }
  if (f.action !== undefined) where.push({ action: f.action });
  if (f.since !== undefined) where.push({ time: { gte: f.since } });
  if (f.until !== undefined) where.push({ time: { lt: f.until } });
  return where;
}
