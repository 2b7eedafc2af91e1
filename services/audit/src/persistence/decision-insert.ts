import { Prisma } from '@capstan/db';
import { chainContent } from '../domain/chain.js';
import type { DecisionRecord } from '../domain/decision-record.js';

/**
 * A record made ready for the chain before the chain lock is taken: its canonical content (what
 * the hash covers) and its rows as JSON, everything but the chain position. This is nearly all the
 * CPU an append costs, and none of it depends on the chain head, so it can run while the previous
 * batch is still being written (see DecisionStreamConsumer).
 */
export interface PreparedDecision {
  record: DecisionRecord;
  content: string;
  /** The decisions row as a JSON object without its closing brace: seq, prev_hash, hash follow. */
  rowHead: string;
  /** One JSON object per target, each without its closing brace: decision_seq follows. */
  targetHeads: string[];
}

/** A record placed in the chain: its position and links, computed by the app under the chain lock. */
export interface PlacedDecision {
  prepared: PreparedDecision;
  seq: bigint;
  prevHash: string;
  hash: string;
}

/** Values are the ones toRow stores, so fromRow gives back records that hash as these did. */
export function prepareDecision(r: DecisionRecord): PreparedDecision {
  const row = JSON.stringify({
    id: r.id,
    event_id: r.eventId,
    event_source: r.eventSource,
    time: r.time.toISOString(),
    recorded_at: r.recordedAt.toISOString(),
    action: r.action,
    outcome: r.outcome,
    reason: r.reason,
    message: r.message,
    actor_kind: r.actor.kind,
    actor_name: r.actor.name,
    actor_email: r.actor.email,
    actor_evidence: r.actor.evidence,
    actors: r.actors,
    source_repository: r.source?.repository ?? null,
    source_url: r.source?.url ?? null,
    source_ref: r.source?.ref ?? null,
    source_revision: r.source?.revision ?? null,
    source_sha: r.source?.sha ?? null,
    source_commit_message: r.source?.commitMessage ?? null,
    source_parents: r.source?.parents ?? [],
    source_author_name: r.source?.author.name ?? null,
    source_author_email: r.source?.author.email ?? null,
    source_committer_name: r.source?.committer.name ?? null,
    source_committer_email: r.source?.committer.email ?? null,
    // A JSON null becomes SQL NULL, as Prisma.DbNull does in toRow.
    image: r.image,
    cluster: r.cluster,
    decided_by_kind: r.decidedBy.kind,
    decided_by_namespace: r.decidedBy.namespace,
    decided_by_name: r.decidedBy.name,
    change_set: r.changeSet,
    evidence: r.evidence,
    correlation_id: r.correlationId,
    traceparent: r.traceparent,
  });
  return {
    record: r,
    content: chainContent(r),
    rowHead: row.slice(0, -1),
    targetHeads: r.targets.map((t) =>
      JSON.stringify({
        decision_id: r.id,
        namespace: t.namespace,
        kind: t.kind,
        api_version: t.apiVersion,
        name: t.name,
        action: t.action,
      }).slice(0, -1),
    ),
  };
}

/**
 * The rows of a batch as one JSON document, expanded in SQL by jsonb_to_recordset: one statement
 * and one parameter for any number of rows, no per-row round trips. Only the chain fields are
 * written here, under the lock; hashes and seqs are hex digits and digits, nothing to escape.
 */
export function decisionsJson(placed: readonly PlacedDecision[]): string {
  return `[${placed
    .map((p) => `${p.prepared.rowHead},"seq":${p.seq},"prev_hash":"${p.prevHash}","hash":"${p.hash}"}`)
    .join(',')}]`;
}

export function targetsJson(placed: readonly PlacedDecision[]): string {
  return `[${placed
    .flatMap((p) => p.prepared.targetHeads.map((head) => `${head},"decision_seq":${p.seq}}`))
    .join(',')}]`;
}

/**
 * `seq` is given explicitly (OVERRIDING SYSTEM VALUE): the app numbers rows head+1, head+2... under
 * the chain lock, so a rolled-back batch burns no numbers and seq stays gapless.
 */
const insertDecisions = (json: string) => Prisma.sql`
  INSERT INTO decisions (
    id, event_id, event_source, seq, time, recorded_at, action, outcome, reason, message,
    actor_kind, actor_name, actor_email, actor_evidence, actors,
    source_repository, source_url, source_ref, source_revision, source_sha, source_commit_message,
    source_parents, source_author_name, source_author_email, source_committer_name, source_committer_email,
    image, cluster, decided_by_kind, decided_by_namespace, decided_by_name,
    change_set, evidence, correlation_id, traceparent, prev_hash, hash)
  OVERRIDING SYSTEM VALUE
  SELECT
    id, event_id, event_source, seq, time, recorded_at, action, outcome, reason, message,
    actor_kind, actor_name, actor_email, actor_evidence, actors,
    source_repository, source_url, source_ref, source_revision, source_sha, source_commit_message,
    source_parents, source_author_name, source_author_email, source_committer_name, source_committer_email,
    image, cluster, decided_by_kind, decided_by_namespace, decided_by_name,
    change_set, evidence, correlation_id, traceparent, prev_hash, hash
  FROM jsonb_to_recordset(${json}::jsonb) AS r(
    id uuid, event_id text, event_source text, seq bigint, time timestamptz, recorded_at timestamptz,
    action text, outcome text, reason text, message text,
    actor_kind text, actor_name text, actor_email text, actor_evidence text, actors jsonb,
    source_repository text, source_url text, source_ref text, source_revision text, source_sha text,
    source_commit_message text, source_parents text[], source_author_name text, source_author_email text,
    source_committer_name text, source_committer_email text,
    image jsonb, cluster text, decided_by_kind text, decided_by_namespace text, decided_by_name text,
    change_set jsonb, evidence jsonb, correlation_id text, traceparent text, prev_hash text, hash text)`;

const insertTargets = (json: string) => Prisma.sql`
  INSERT INTO decision_targets (decision_id, decision_seq, namespace, kind, api_version, name, action)
  SELECT decision_id, decision_seq, namespace, kind, api_version, name, action
  FROM jsonb_to_recordset(${json}::jsonb) AS r(
    decision_id uuid, decision_seq bigint, namespace text, kind text, api_version text, name text, action text)`;

/**
 * A placed batch as ONE statement: the decisions, their targets, and the identity sequence moved
 * to the new head (so an INSERT that leaves seq to its default, a tool or a test, continues after
 * it instead of colliding). One statement is one round trip in which Postgres does all the
 * writing, while the app prepares the next batch. The targets' foreign key is checked at the end
 * of the statement, when the decisions are in.
 */
export const insertBatch = (placed: readonly PlacedDecision[], head: bigint) => Prisma.sql`
  WITH decision_rows AS (${insertDecisions(decisionsJson(placed))}),
       target_rows AS (${insertTargets(targetsJson(placed))})
  SELECT setval(pg_get_serial_sequence('decisions', 'seq'), ${head})`;
