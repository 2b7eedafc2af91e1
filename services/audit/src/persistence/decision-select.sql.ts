import { Prisma, type PgPool } from '@capstan/db';

/** A decisions row under Prisma's field names, without targets. */
export type DecisionColumns = Prisma.DecisionGetPayload<object>;
type TargetColumns = Pick<
  Prisma.DecisionTargetGetPayload<object>,
  'apiVersion' | 'kind' | 'namespace' | 'name' | 'action'
>;

/** A decision row as the read queries return it: Prisma's field names, targets folded in. */
export type DecisionSelectRow = DecisionColumns & { targets: TargetColumns[] };

/**
 * The columns of `decisions d` alone, under the field names of Prisma's client: for answers that
 * show no targets (at 10M rows, the targets cost each row an index probe and a heap page more).
 */
export const decisionOwnColumns = Prisma.sql`
  d.id, d.event_id AS "eventId", d.event_source AS "eventSource", d.seq, d.time,
  d.recorded_at AS "recordedAt", d.action, d.outcome, d.reason, d.message,
  d.actor_kind AS "actorKind", d.actor_name AS "actorName", d.actor_email AS "actorEmail",
  d.actor_evidence AS "actorEvidence", d.actors,
  d.source_repository AS "sourceRepository", d.source_url AS "sourceUrl", d.source_ref AS "sourceRef",
  d.source_revision AS "sourceRevision", d.source_sha AS "sourceSha",
  d.source_commit_message AS "sourceCommitMessage", d.source_parents AS "sourceParents",
  d.source_author_name AS "sourceAuthorName", d.source_author_email AS "sourceAuthorEmail",
  d.source_committer_name AS "sourceCommitterName", d.source_committer_email AS "sourceCommitterEmail",
  d.image, d.cluster, d.decided_by_kind AS "decidedByKind", d.decided_by_namespace AS "decidedByNamespace",
  d.decided_by_name AS "decidedByName", d.change_set AS "changeSet", d.evidence,
  d.correlation_id AS "correlationId", d.traceparent, d.prev_hash AS "prevHash", d.hash`;

/**
 * decisionOwnColumns plus the decision's targets as one JSON array, so a page of decisions is ONE
 * statement and one round trip. Prisma's `findMany({ include: { targets } })` costs two more
 * statements and most of a request's time at 1M rows (the database part of a page is 1-3 ms).
 * Targets come by decision_targets_pkey, which leads with decision_id.
 */
export const decisionColumns = Prisma.sql`${decisionOwnColumns},
  COALESCE((
    SELECT json_agg(json_build_object('apiVersion', t.api_version, 'kind', t.kind,
                                      'namespace', t.namespace, 'name', t.name, 'action', t.action))
      FROM decision_targets t WHERE t.decision_id = d.id), '[]'::json) AS targets`;

/** The decisions with these seqs, newest first. */
export const decisionsBySeq = (seqs: readonly bigint[]) => Prisma.sql`
  SELECT ${decisionColumns} FROM decisions d
   WHERE d.seq = ANY(${seqs.map(String)}::bigint[])
   ORDER BY d.seq DESC`;

/** The decisions a page query picks (a statement yielding `seq`), in its order: newest first. */
export const decisionsOfPage = (page: Prisma.Sql) => Prisma.sql`
  SELECT ${decisionColumns} FROM (${page}) AS page JOIN decisions d ON d.seq = page.seq
   ORDER BY d.seq DESC`;

/** Up to `limit` decisions after `afterSeq`, oldest first: what a relay over the log reads next. */
export const decisionsAfter = (afterSeq: bigint, limit: number) => Prisma.sql`
  SELECT ${decisionColumns} FROM decisions d
   WHERE d.seq > ${afterSeq}
   ORDER BY d.seq
   LIMIT ${limit}`;

/**
 * Runs a statement selecting decisionOwnColumns or decisionColumns (plus any columns of its own)
 * through pg, typed as Prisma's raw query would give it. The read paths of the API and the
 * relays go this way: for a page of 50 decisions, Prisma's raw-query machinery cost more CPU
 * than the statement did in Postgres, and on a busy machine CPU time is what a request waits for.
 */
export async function queryDecisionRows<R extends DecisionColumns>(
  pool: PgPool,
  statement: Prisma.Sql,
): Promise<R[]> {
  // pg gives bigint columns as strings; seq is the one here.
  const { rows } = await pool.query<Omit<R, 'seq'> & { seq: string }>(statement.text, statement.values);
  return rows.map((row) => Object.assign(row, { seq: BigInt(row.seq) }) as unknown as R);
}
