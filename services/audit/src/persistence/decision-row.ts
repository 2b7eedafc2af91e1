import { Prisma } from '@capstan/db';
import type { ChainedDecision, DecisionRecord, JsonValue } from '../domain/decision-record.js';
import type { DecisionColumns, DecisionSelectRow } from './decision-select.sql.js';

/** The columns for a record; `seq` is left to the identity column. */
export function toRow(
  record: DecisionRecord,
  prevHash: string,
  hash: string,
): Prisma.DecisionUncheckedCreateInput {
  const s = record.source;
  return {
    id: record.id,
    eventId: record.eventId,
    eventSource: record.eventSource,
    time: record.time,
    recordedAt: record.recordedAt,
    action: record.action,
    outcome: record.outcome,
    reason: record.reason,
    message: record.message,
    actorKind: record.actor.kind,
    actorName: record.actor.name,
    actorEmail: record.actor.email,
    actorEvidence: record.actor.evidence,
    actors: record.actors,
    sourceRepository: s?.repository ?? null,
    sourceUrl: s?.url ?? null,
    sourceRef: s?.ref ?? null,
    sourceRevision: s?.revision ?? null,
    sourceSha: s?.sha ?? null,
    sourceCommitMessage: s?.commitMessage ?? null,
    sourceParents: s?.parents ?? [],
    sourceAuthorName: s?.author.name ?? null,
    sourceAuthorEmail: s?.author.email ?? null,
    sourceCommitterName: s?.committer.name ?? null,
    sourceCommitterEmail: s?.committer.email ?? null,
    image: record.image === null ? Prisma.DbNull : record.image,
    cluster: record.cluster,
    decidedByKind: record.decidedBy.kind,
    decidedByNamespace: record.decidedBy.namespace,
    decidedByName: record.decidedBy.name,
    changeSet: record.changeSet,
    evidence: record.evidence,
    correlationId: record.correlationId,
    traceparent: record.traceparent,
    prevHash,
    hash,
  };
}

/** The inverse of toRow: must give back a record that hashes exactly as the one appended. */
export function fromRow(row: DecisionSelectRow): ChainedDecision {
  return {
    ...fromColumns(row),
    targets: row.targets
      .map((t) => ({
        apiVersion: t.apiVersion,
        kind: t.kind,
        namespace: t.namespace,
        name: t.name,
        action: t.action,
      }))
      .sort(byTargetKey),
  };
}

/**
 * A record as fromRow gives it back once stored with these links: the same values, targets in the
 * order a read returns them. What the relays get in memory instead of reading the row back.
 */
export function asStored(
  record: DecisionRecord,
  link: { seq: bigint; prevHash: string; hash: string },
): ChainedDecision {
  return {
    ...record,
    targets: [...record.targets].sort(byTargetKey),
    seq: link.seq,
    prevHash: link.prevHash,
    hash: link.hash,
  };
}

/** fromRow for a row read without its targets. */
export function fromColumns(row: DecisionColumns): Omit<ChainedDecision, 'targets'> {
  const hasSource = row.sourceSha !== null;
  return {
    id: row.id,
    eventId: row.eventId,
    eventSource: row.eventSource,
    time: row.time,
    recordedAt: row.recordedAt,
    action: row.action,
    outcome: row.outcome,
    reason: row.reason,
    message: row.message,
    actor: { kind: row.actorKind, name: row.actorName, email: row.actorEmail, evidence: row.actorEvidence },
    actors: row.actors as JsonValue[],
    source: hasSource
      ? {
          repository: row.sourceRepository ?? '',
          url: row.sourceUrl ?? '',
          ref: row.sourceRef ?? '',
          revision: row.sourceRevision ?? '',
          sha: row.sourceSha ?? '',
          commitMessage: row.sourceCommitMessage ?? '',
          parents: row.sourceParents,
          author: { name: row.sourceAuthorName ?? '', email: row.sourceAuthorEmail ?? '' },
          committer: { name: row.sourceCommitterName ?? '', email: row.sourceCommitterEmail ?? '' },
        }
      : null,
    image: (row.image ?? null) as JsonValue,
    cluster: row.cluster,
    decidedBy: { kind: row.decidedByKind, namespace: row.decidedByNamespace, name: row.decidedByName },
    changeSet: row.changeSet as JsonValue[],
    evidence: row.evidence as { [key: string]: JsonValue },
    correlationId: row.correlationId,
    traceparent: row.traceparent,
    seq: row.seq,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

const targetKey = (t: { namespace: string; kind: string; name: string; apiVersion: string }) =>
  [t.namespace, t.kind, t.name, t.apiVersion].join('\u0000');
const byTargetKey = (a: DecisionRecord['targets'][number], b: DecisionRecord['targets'][number]) =>
  targetKey(a) < targetKey(b) ? -1 : 1;
