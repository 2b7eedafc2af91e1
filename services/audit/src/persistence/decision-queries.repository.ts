import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PgPool, type PrismaClient } from '@capstan/db';
import type { ChainedDecision } from '../domain/decision-record.js';
import type { DecisionFilter, DeciderKey, Page } from '../domain/decision-query.js';
import { decisionPageSql } from './decision-page.sql.js';
import {
  decisionsBySeq,
  decisionsOfPage,
  queryDecisionRows,
  type DecisionSelectRow,
} from './decision-select.sql.js';
import { fromRow } from './decision-row.js';
import { PG_POOL, PRISMA } from './prisma.provider.js';

/** Rows per round trip when an export walks the whole log. */
export const EXPORT_BATCH = 500;

/** What `running` is asked about: objects in a namespace, or objects a Sync manages (or both). */
export interface RunningScope {
  namespace?: string;
  sync?: DeciderKey;
}

/** One object that is in the cluster according to the log, with the decisions that put it there. */
export interface RunningObjectRow {
  namespace: string;
  kind: string;
  name: string;
  apiVersion: string;
  /** The last decision that created or configured the object and did not fail. */
  lastApplied: ChainedDecision;
  objectAction: string;
  /** The last successful decision that left the object as the commit wants it (may be "unchanged"). */
  current: ChainedDecision;
}

/** Read side of the decision log: filtered pages, exports, "what is running", timelines. */
@Injectable()
export class DecisionQueries {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    /** Pages of decisions are read through pg (see queryDecisionRows). */
    @Inject(PG_POOL) private readonly pool: PgPool,
  ) {}

  /**
   * Newest first; `page.beforeSeq` continues after a previous page (keyset, never OFFSET). The page's
   * seqs come from one hand-shaped query (decisionPageSql: the shapes Prisma's builder cannot
   * express, e.g. start from decision_targets), then the decisions themselves by seq.
   */
  async list(filter: DecisionFilter, page: Page): Promise<ChainedDecision[]> {
    const rows = await queryDecisionRows<DecisionSelectRow>(
      this.pool,
      decisionsOfPage(decisionPageSql(filter, page)),
    );
    return rows.map(fromRow);
  }

  /**
   * Every matching decision, newest first, fetched EXPORT_BATCH at a time by keyset so memory
   * stays flat whatever the log's size. Decisions recorded during the walk are not included
   * (they sort before its start), so an export is a consistent prefix of the log.
   */
  async *stream(filter: DecisionFilter, batch = EXPORT_BATCH): AsyncGenerator<ChainedDecision> {
    let beforeSeq: bigint | undefined;
    for (;;) {
      const rows = await this.list(filter, {
        limit: batch,
        ...(beforeSeq === undefined ? {} : { beforeSeq }),
      });
      yield* rows;
      const last = rows.at(-1);
      if (rows.length < batch || !last) return;
      beforeSeq = last.seq;
    }
  }

  /** Every decision of one deploy, in the order they were recorded. */
  async timeline(correlationId: string, limit: number): Promise<ChainedDecision[]> {
    const rows = await this.prisma.decision.findMany({
      where: { correlationId },
      orderBy: { seq: 'asc' },
      take: limit,
      include: { targets: true },
    });
    return rows.map(fromRow);
  }

  /**
   * Objects the log says are in the cluster: per object, its newest decision must not have
   * deleted it (a prune), and it needs a non-failed decision that created or configured it.
   * `current` is the newest non-failed decision that created, configured or left it unchanged:
   * an "unchanged" apply of a newer commit means the object now runs from that commit.
   */
  async running(scope: RunningScope, limit: number): Promise<RunningObjectRow[]> {
    const conditions: Prisma.Sql[] = [];
    if (scope.namespace !== undefined) conditions.push(Prisma.sql`t.namespace = ${scope.namespace}`);
    if (scope.sync !== undefined) {
      conditions.push(
        Prisma.sql`d.decided_by_kind = 'Sync' AND d.decided_by_namespace = ${scope.sync.namespace} AND d.decided_by_name = ${scope.sync.name}`,
      );
    }
    const where = conditions.length > 0 ? Prisma.join(conditions, ' AND ') : Prisma.sql`TRUE`;
    const rows = await this.prisma.$queryRaw<
      {
        namespace: string;
        kind: string;
        name: string;
        api_version: string;
        object_action: string;
        applied_seq: bigint;
        current_seq: bigint;
      }[]
    >`
      WITH touches AS (
        SELECT t.namespace, t.kind, t.name, t.api_version, t.action AS object_action,
               t.decision_seq, d.action, d.outcome
          FROM decision_targets t JOIN decisions d ON d.seq = t.decision_seq
         WHERE ${where}
      ), latest AS (
        SELECT DISTINCT ON (namespace, kind, name) namespace, kind, name, object_action, action
          FROM touches ORDER BY namespace, kind, name, decision_seq DESC
      ), applied AS (
        SELECT DISTINCT ON (namespace, kind, name) namespace, kind, name, api_version, object_action, decision_seq
          FROM touches
         WHERE object_action IN ('created', 'configured') AND outcome <> 'failed'
         ORDER BY namespace, kind, name, decision_seq DESC
      ), current AS (
        SELECT DISTINCT ON (namespace, kind, name) namespace, kind, name, decision_seq
          FROM touches
         WHERE object_action IN ('created', 'configured', 'unchanged') AND outcome <> 'failed'
         ORDER BY namespace, kind, name, decision_seq DESC
      )
      SELECT a.namespace, a.kind, a.name, a.api_version, a.object_action,
             a.decision_seq AS applied_seq, c.decision_seq AS current_seq
        FROM applied a
        JOIN latest l USING (namespace, kind, name)
        JOIN current c USING (namespace, kind, name)
       WHERE l.action <> 'pruned' AND l.object_action IS DISTINCT FROM 'deleted'
       ORDER BY a.namespace, a.kind, a.name
       LIMIT ${limit}`;
    if (rows.length === 0) return [];
    const seqs = [...new Set(rows.flatMap((r) => [r.applied_seq, r.current_seq]))];
    const decisions = await queryDecisionRows<DecisionSelectRow>(this.pool, decisionsBySeq(seqs));
    const bySeq = new Map(decisions.map((d) => [d.seq, fromRow(d)]));
    return rows.flatMap((r) => {
      const lastApplied = bySeq.get(r.applied_seq);
      const current = bySeq.get(r.current_seq);
      if (!lastApplied || !current) return [];
      return [
        {
          namespace: r.namespace,
          kind: r.kind,
          name: r.name,
          apiVersion: r.api_version,
          objectAction: r.object_action,
          lastApplied,
          current,
        },
      ];
    });
  }
}
