import { Prisma } from '@capstan/db';
import type { DecisionFilter, DeciderKey, Page } from '../domain/decision-query.js';

/**
 * The SQL that picks one page of the decision list: the `seq`s of the newest `page.limit`
 * decisions matching `filter` (older than `page.beforeSeq`), newest first. Every value is a bound
 * parameter; only fixed SQL fragments are joined.
 *
 * Shapes, chosen so each common question is a short index walk at millions of rows (see
 * docs/benchmarks.md, audit-query-1m):
 * - namespace given: walk decision_targets by (namespace, decision_seq DESC) (or decision_targets_object_touch_idx
 *   when kind and name are given too) and join each touch to its decision for the other
 *   filters, the way object history does. Starting from decisions instead meant probing targets for
 *   every decision until 50 matched: ~200 probes per hit with 200 namespaces.
 * - actor given: "name is X" and "email is X, whatever its case" are two separate index walks in
 *   seq order, each cut at the page size, merged. An OR in one scan cannot use an ordered index, so
 *   Postgres fetched every decision of the person and sorted them.
 * - action and a closed time window: a walk per day of the window by decisions_action_day_idx;
 *   an open window: its matches by the same index (bounded by their days), then a top-N sort.
 * - otherwise one walk of decisions newest first, by whichever index fits (decided-by for a Sync...).
 */
export function decisionPageSql(filter: DecisionFilter, page: Page): Prisma.Sql {
  if (filter.actor === undefined) return pageOf(filter, page, undefined);
  const byName = pageOf(filter, page, Prisma.sql`d.actor_name = ${filter.actor}`);
  const byEmail = pageOf(filter, page, Prisma.sql`lower(d.actor_email) = lower(${filter.actor})`);
  // UNION (not ALL): a decision whose name and email both match is listed once.
  return Prisma.sql`SELECT seq FROM ((${byName}) UNION (${byEmail})) AS person
    ORDER BY seq DESC LIMIT ${page.limit}`;
}

/** One ordered, limited walk; `actor` is the actor condition of this branch, if any. */
function pageOf(filter: DecisionFilter, page: Page, actor: Prisma.Sql | undefined): Prisma.Sql {
  const onDecision = decisionConditions(filter);
  if (actor) onDecision.push(actor);
  const onTarget = targetConditions(filter);

  if (filter.namespace !== undefined) {
    // The cursor bounds the index column itself: Postgres does not carry `<` across the join.
    if (page.beforeSeq !== undefined) onTarget.push(Prisma.sql`t.decision_seq < ${page.beforeSeq}`);
    // DISTINCT: a decision touching several objects of the namespace is one entry. The join is
    // only there to filter: without conditions on the decision, the walk stays index-only (at 10M
    // rows, probing decisions_seq_key per touch cost more than the whole rest of the page).
    if (onDecision.length === 0)
      return Prisma.sql`SELECT DISTINCT t.decision_seq AS seq FROM decision_targets t
       WHERE ${and(onTarget)} ORDER BY t.decision_seq DESC LIMIT ${page.limit}`;
    return Prisma.sql`SELECT DISTINCT t.decision_seq AS seq
      FROM decision_targets t JOIN decisions d ON d.seq = t.decision_seq
     WHERE ${and([...onTarget, ...onDecision])}
     ORDER BY t.decision_seq DESC LIMIT ${page.limit}`;
  }
  if (page.beforeSeq !== undefined) onDecision.push(Prisma.sql`d.seq < ${page.beforeSeq}`);
  if (onTarget.length > 0) {
    // Kind and/or name without a namespace: no index leads with them; test each decision's targets.
    onDecision.push(
      Prisma.sql`EXISTS (SELECT 1 FROM decision_targets t WHERE t.decision_id = d.id AND ${and(onTarget)})`,
    );
  }
  if (
    filter.action !== undefined &&
    filter.since !== undefined &&
    filter.until !== undefined &&
    filter.until.getTime() - filter.since.getTime() <= MAX_BUCKETED_WINDOW_MS
  ) {
    // An action in a closed time window, as one short walk per UTC day of the window: the newest
    // `limit` of each day by decisions_action_day_idx (index-only, in seq order), then the newest
    // `limit` of those. Exact whatever the order decisions arrived in (a late one sits in its own
    // day), and the cost is days x limit index entries, not every match in the window (a month
    // of prunes at 10M decisions: ~100,000 entries, 40-60 ms). The bucket expression must be
    // written exactly as in the index (migration 20261204230000).
    return Prisma.sql`SELECT page.seq
      FROM generate_series(date_bin('24 hours', ${filter.since}::timestamptz, ${DAY_ORIGIN}),
                           ${filter.until}::timestamptz - interval '1 millisecond', interval '24 hours') AS day
      CROSS JOIN LATERAL (
        SELECT d.seq FROM decisions d
         WHERE ${DAY_OF_DECISION} = day AND ${and(onDecision)}
         ORDER BY d.seq DESC LIMIT ${page.limit}) AS page
      ORDER BY page.seq DESC LIMIT ${page.limit}`;
  }
  if (filter.action !== undefined && (filter.since !== undefined || filter.until !== undefined)) {
    // An action in an open (or very long) time window: collect the window's matches first, then
    // sort. Left to itself Postgres may instead walk the whole log backwards by seq, expecting
    // matches spread evenly over it; but time follows seq, so a window far from the newest end is
    // reached only after every newer decision (0.6 s at 1M for a month eleven months back).
    // MATERIALIZED keeps it from merging the two steps back into that walk. The day bounds
    // (implied by the time bounds) let decisions_action_day_idx give just the window's days.
    const days: Prisma.Sql[] = [];
    if (filter.since !== undefined)
      days.push(
        Prisma.sql`${DAY_OF_DECISION} >= date_bin('24 hours', ${filter.since}::timestamptz, ${DAY_ORIGIN})`,
      );
    if (filter.until !== undefined) days.push(Prisma.sql`${DAY_OF_DECISION} <= ${filter.until}::timestamptz`);
    return Prisma.sql`WITH in_window AS MATERIALIZED (
        SELECT d.seq FROM decisions d WHERE ${and([...onDecision, ...days])})
      SELECT seq FROM in_window ORDER BY seq DESC LIMIT ${page.limit}`;
  }
  return Prisma.sql`SELECT d.seq FROM decisions d WHERE ${and(onDecision)}
     ORDER BY d.seq DESC LIMIT ${page.limit}`;
}

/** Windows up to this long are walked a day at a time (see pageOf); longer ones as one range. */
const MAX_BUCKETED_WINDOW_MS = 400 * 86_400_000;
const DAY_ORIGIN = Prisma.sql`timestamptz '2000-01-01 00:00:00+00'`;
/** The UTC day of a decision, as decisions_action_day_idx has it (date_bin is immutable, date_trunc is not). */
const DAY_OF_DECISION = Prisma.sql`date_bin('24 hours', d.time, timestamptz '2000-01-01 00:00:00+00')`;

/** All given target fields must hold for one and the same target. */
function targetConditions(f: DecisionFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (f.namespace !== undefined) where.push(Prisma.sql`t.namespace = ${f.namespace}`);
  if (f.kind !== undefined) where.push(Prisma.sql`t.kind = ${f.kind}`);
  if (f.name !== undefined) where.push(Prisma.sql`t.name = ${f.name}`);
  return where;
}

function decisionConditions(f: DecisionFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (f.revision !== undefined)
    where.push(Prisma.sql`(d.source_revision = ${f.revision} OR d.source_sha = ${f.revision})`);
  if (f.action !== undefined) where.push(Prisma.sql`d.action = ${f.action}`);
  if (f.since !== undefined) where.push(Prisma.sql`d.time >= ${f.since}`);
  if (f.until !== undefined) where.push(Prisma.sql`d.time < ${f.until}`);
  if (f.sync !== undefined) where.push(decidedBy('Sync', f.sync));
  if (f.canary !== undefined) where.push(decidedBy('Canary', f.canary));
  if (f.correlationId !== undefined) where.push(Prisma.sql`d.correlation_id = ${f.correlationId}`);
  if (f.image !== undefined) {
    // The same expression as decisions_image_repository_seq_idx, so the walk uses it.
    where.push(Prisma.sql`(d.image ->> 'repository') = ${f.image.repository}`);
    if (f.image.tag !== undefined) where.push(Prisma.sql`(d.image ->> 'tag') = ${f.image.tag}`);
  }
  return where;
}

const decidedBy = (kind: string, d: DeciderKey): Prisma.Sql =>
  Prisma.sql`d.decided_by_kind = ${kind} AND d.decided_by_namespace = ${d.namespace} AND d.decided_by_name = ${d.name}`;

const and = (conditions: Prisma.Sql[]): Prisma.Sql =>
  conditions.length > 0 ? Prisma.join(conditions, ' AND ') : Prisma.sql`TRUE`;
