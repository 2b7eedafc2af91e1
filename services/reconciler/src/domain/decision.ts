import {
  DEPLOY_DECISION_RECORDED_V1,
  DeployDecisionV1Data,
  stableId,
  type ChangeSetEntry,
  type DeployDecisionRecordedV1,
  type GitSource,
} from '@capstan/events';
import { actorsOfCommit, CAPSTAN_ACTOR } from './actor.js';
import { summarize, type ReconcileOutcome } from './outcome.js';

export interface DecisionContext {
  sync: { namespace: string; name: string; uid: string };
  /** What caused this reconcile (a commit event id, a spec change): one decision per trigger. */
  triggerId: string;
  source: GitSource;
  cluster: string;
  now: Date;
  correlationId: string;
  /** The verified signer of the commit, when its signature was checked against trusted keys. */
  signer?: string;
}

/** The deploy decision for one reconcile. Pure: the same inputs give the same event and id. */
export function decisionFor(ctx: DecisionContext, outcome: ReconcileOutcome): DeployDecisionRecordedV1 {
  const actors = [
    ...actorsOfCommit(ctx.source),
    ...(ctx.signer
      ? [{ kind: 'person' as const, name: ctx.signer, evidence: 'verified-signer' as const }]
      : []),
  ];
  const base = {
    decidedBy: { kind: 'Sync' as const, namespace: ctx.sync.namespace, name: ctx.sync.name },
    cluster: ctx.cluster,
    actor: actors[0] ?? CAPSTAN_ACTOR,
    actors,
    source: ctx.source,
    decidedAt: ctx.now.toISOString(),
  };
  // Hooks that ran are part of what this decision did, listed first as they ran first.
  const changeSet = outcome.kind === 'applied' ? [...(outcome.hooks ?? []), ...outcome.changeSet] : [];
  const data =
    outcome.kind === 'applied'
      ? DeployDecisionV1Data.parse({
          ...base,
          action: 'applied',
          outcome: changeSet.every((c) => c.action === 'unchanged') ? 'noop' : 'succeeded',
          reason: 'ReconciliationSucceeded',
          message: `applied revision ${ctx.source.revision}: ${summarize(changeSet)}`,
          targets: changeSet.map(({ apiVersion, kind, namespace, name }) => ({
            apiVersion,
            kind,
            namespace,
            name,
          })),
          changeSet,
        })
      : DeployDecisionV1Data.parse({
          ...base,
          action: 'failed',
          outcome: 'failed',
          reason: outcome.reason,
          message: outcome.message,
          evidence: { failures: outcome.failures },
        });
  return {
    specversion: '1.0',
    id: stableId('decision', ctx.sync.uid, ctx.triggerId, data.action),
    source: '/capstan/reconciler',
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: `Sync/${ctx.sync.namespace}/${ctx.sync.name}`,
    time: ctx.now.toISOString(),
    datacontenttype: 'application/json',
    correlationid: ctx.correlationId,
    data,
  };
}

/**
 * The decision to delete objects that left Git: one per prune run, listing every deletion.
 * The applied decision of the same reconcile covers the rest of the change set.
 */
export function prunedDecisionFor(
  ctx: DecisionContext,
  deleted: readonly ChangeSetEntry[],
): DeployDecisionRecordedV1 {
  const actors = actorsOfCommit(ctx.source);
  const data = DeployDecisionV1Data.parse({
    decidedBy: { kind: 'Sync' as const, namespace: ctx.sync.namespace, name: ctx.sync.name },
    cluster: ctx.cluster,
    actor: actors[0] ?? CAPSTAN_ACTOR,
    actors,
    source: ctx.source,
    decidedAt: ctx.now.toISOString(),
    action: 'pruned',
    outcome: 'succeeded',
    reason: 'Pruned',
    message: `pruned ${deleted.length} object(s) removed from revision ${ctx.source.revision}: ${deleted
      .map((d) => `${d.namespace ? `${d.namespace}/` : ''}${d.kind}/${d.name}`)
      .join(', ')}`,
    targets: deleted.map(({ apiVersion, kind, namespace, name }) => ({ apiVersion, kind, namespace, name })),
    changeSet: deleted,
  });
  return {
    specversion: '1.0',
    id: stableId('decision', ctx.sync.uid, ctx.triggerId, 'pruned'),
    source: '/capstan/reconciler',
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: `Sync/${ctx.sync.namespace}/${ctx.sync.name}`,
    time: ctx.now.toISOString(),
    datacontenttype: 'application/json',
    correlationid: ctx.correlationId,
    data,
  };
}
