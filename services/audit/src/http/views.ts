import type { ChainedDecision, DecisionActor } from '../domain/decision-record.js';
import type { VisibleDecision } from '../domain/visibility.js';
import type { ObjectHistoryRow } from '../persistence/decision.repository.js';
import type { RunningObjectRow } from '../persistence/decision-queries.repository.js';

/**
 * The API's JSON for a decision. `seq` is a number: it stays far below 2^53 in any real log.
 * `hiddenObjects` only appears when objects of namespaces the caller may not read were cut out.
 */
export type DecisionView = Omit<ChainedDecision, 'seq' | 'time' | 'recordedAt'> & {
  seq: number;
  time: string;
  recordedAt: string;
  hiddenObjects?: number;
};

export function decisionView(d: VisibleDecision): DecisionView {
  return {
    id: d.id,
    seq: Number(d.seq),
    eventId: d.eventId,
    eventSource: d.eventSource,
    time: d.time.toISOString(),
    recordedAt: d.recordedAt.toISOString(),
    action: d.action,
    outcome: d.outcome,
    reason: d.reason,
    message: d.message,
    actor: d.actor,
    actors: d.actors,
    source: d.source,
    image: d.image,
    cluster: d.cluster,
    decidedBy: d.decidedBy,
    targets: d.targets,
    changeSet: d.changeSet,
    evidence: d.evidence,
    correlationId: d.correlationId,
    traceparent: d.traceparent,
    prevHash: d.prevHash,
    hash: d.hash,
    ...(d.hiddenObjects ? { hiddenObjects: d.hiddenObjects } : {}),
  };
}

/** One line of an object's history: which commit, who, what happened to the object, when. */
export interface ObjectHistoryEntryView {
  seq: number;
  decisionId: string;
  time: string;
  action: string;
  outcome: string;
  reason: string;
  message: string;
  /** What happened to this object (created, configured, deleted...); null if it was only a target. */
  objectAction: string | null;
  apiVersion: string;
  revision: string | null;
  sha: string | null;
  repository: string | null;
  commitMessage: string | null;
  author: { name: string; email: string } | null;
  committer: { name: string; email: string } | null;
  actor: DecisionActor;
  decidedBy: { kind: string; namespace: string; name: string };
}

export function objectHistoryEntryView({
  decision: d,
  apiVersion,
  objectAction,
}: ObjectHistoryRow): ObjectHistoryEntryView {
  return {
    seq: Number(d.seq),
    decisionId: d.id,
    time: d.time.toISOString(),
    action: d.action,
    outcome: d.outcome,
    reason: d.reason,
    message: d.message,
    objectAction,
    apiVersion,
    revision: d.source?.revision ?? null,
    sha: d.source?.sha ?? null,
    repository: d.source?.repository ?? null,
    commitMessage: d.source?.commitMessage ?? null,
    author: d.source?.author ?? null,
    committer: d.source?.committer ?? null,
    actor: d.actor,
    decidedBy: d.decidedBy,
  };
}

export interface PageView<T> {
  items: T[];
  nextCursor: string | null;
}

/** "What is running and who put it there": one object, the commit it runs from, who applied it. */
export interface RunningObjectView {
  namespace: string;
  kind: string;
  name: string;
  apiVersion: string;
  /** Revision of the newest successful decision that left the object as its commit wants it. */
  revision: string | null;
  sha: string | null;
  /** The decision that last created or configured the object. */
  lastApplied: {
    seq: number;
    decisionId: string;
    time: string;
    action: string;
    objectAction: string;
    revision: string | null;
    commitMessage: string | null;
    actor: DecisionActor;
    decidedBy: { kind: string; namespace: string; name: string };
    correlationId: string | null;
  };
}

export function runningObjectView(r: RunningObjectRow): RunningObjectView {
  const d = r.lastApplied;
  return {
    namespace: r.namespace,
    kind: r.kind,
    name: r.name,
    apiVersion: r.apiVersion,
    revision: r.current.source?.revision ?? null,
    sha: r.current.source?.sha ?? null,
    lastApplied: {
      seq: Number(d.seq),
      decisionId: d.id,
      time: d.time.toISOString(),
      action: d.action,
      objectAction: r.objectAction,
      revision: d.source?.revision ?? null,
      commitMessage: d.source?.commitMessage ?? null,
      actor: d.actor,
      decidedBy: d.decidedBy,
      correlationId: d.correlationId,
    },
  };
}

/** One step of a deploy: the decision, numbered in the order it was recorded. */
export interface TimelineStepView extends DecisionView {
  step: number;
}

/** Columns of the CSV export, one decision per record; targets as `ns/Kind/name=action` joined by spaces. */
export const CSV_COLUMNS = [
  'seq',
  'time',
  'action',
  'outcome',
  'reason',
  'message',
  'actor_kind',
  'actor_name',
  'actor_email',
  'revision',
  'sha',
  'repository',
  'decided_by',
  'cluster',
  'targets',
  'correlation_id',
  'id',
  'hash',
] as const;

export function csvValues(d: ChainedDecision): (string | number | null)[] {
  return [
    Number(d.seq),
    d.time.toISOString(),
    d.action,
    d.outcome,
    d.reason,
    d.message,
    d.actor.kind,
    d.actor.name,
    d.actor.email,
    d.source?.revision ?? null,
    d.source?.sha ?? null,
    d.source?.repository ?? null,
    `${d.decidedBy.kind}/${d.decidedBy.namespace}/${d.decidedBy.name}`,
    d.cluster,
    d.targets.map((t) => `${t.namespace || '_'}/${t.kind}/${t.name}=${t.action ?? '-'}`).join(' '),
    d.correlationId,
    d.id,
    d.hash,
  ];
}
