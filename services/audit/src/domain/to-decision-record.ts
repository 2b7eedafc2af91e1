import type { DeployDecisionRecordedV1 } from '@capstan/events';
import type { DecisionRecord, DecisionTargetRecord, JsonValue } from './decision-record.js';
import { redactSecrets, withoutCredentials } from '@capstan/gitops-core';

/** What the caller supplies because domain code never makes ids or reads the clock. */
export interface RecordingContext {
  id: string;
  recordedAt: Date;
}

/**
 * The audit row for a decision event. Targets are the union of the event's targets and its
 * change set, keyed by object; each carries its own change action when the change set has one.
 * Values pass through JSON once so the record holds exactly what jsonb will give back. The
 * services mask secret values before they publish; this is the last line, as the log is forever:
 * secret values in the change set and evidence, and credentials in any URL, are masked before
 * anything is stored or hashed (gitops-core's secret-redaction, the one rule for every service).
 */
export function toDecisionRecord(event: DeployDecisionRecordedV1, context: RecordingContext): DecisionRecord {
  const d = event.data;
  return {
    id: context.id,
    eventId: event.id,
    eventSource: event.source,
    // Timestamps are kept to the millisecond, the precision of the columns and of Date.
    time: new Date(d.decidedAt),
    recordedAt: new Date(context.recordedAt.getTime()),
    action: d.action,
    outcome: d.outcome,
    reason: d.reason,
    message: redactSecrets(d.message),
    actor: {
      kind: d.actor.kind,
      name: d.actor.name,
      email: d.actor.email ?? null,
      evidence: d.actor.evidence,
    },
    actors: asJson(d.actors) as JsonValue[],
    source: d.source
      ? {
          repository: d.source.repository,
          url: withoutCredentials(d.source.url),
          ref: d.source.ref,
          revision: d.source.revision,
          sha: d.source.sha,
          commitMessage: d.source.message,
          parents: [...d.source.parents],
          author: { name: d.source.author.name, email: d.source.author.email },
          committer: { name: d.source.committer.name, email: d.source.committer.email },
        }
      : null,
    image: d.image ? asJson(d.image) : null,
    cluster: d.cluster,
    decidedBy: { kind: d.decidedBy.kind, namespace: d.decidedBy.namespace, name: d.decidedBy.name },
    targets: targetsOf(d),
    changeSet: redactSecrets(asJson(d.changeSet)) as JsonValue[],
    evidence: redactSecrets(asJson(d.evidence)) as { [key: string]: JsonValue },
    correlationId: event.correlationid ?? null,
    traceparent: event.traceparent ?? null,
  };
}

function targetsOf(d: DeployDecisionRecordedV1['data']): DecisionTargetRecord[] {
  const byObject = new Map<string, DecisionTargetRecord>();
  const key = (o: { apiVersion: string; kind: string; namespace: string; name: string }) =>
    JSON.stringify([o.apiVersion, o.kind, o.namespace, o.name]);
  for (const t of d.targets) {
    byObject.set(key(t), {
      apiVersion: t.apiVersion,
      kind: t.kind,
      namespace: t.namespace,
      name: t.name,
      action: null,
    });
  }
  for (const c of d.changeSet) {
    byObject.set(key(c), {
      apiVersion: c.apiVersion,
      kind: c.kind,
      namespace: c.namespace,
      name: c.name,
      action: c.action,
    });
  }
  return [...byObject.values()];
}

/** Drops `undefined` members and the like, as storing to jsonb would. */
function asJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
