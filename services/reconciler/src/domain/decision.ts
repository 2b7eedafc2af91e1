import {
  DEPLOY_DECISION_RECORDED_V1,
  DeployDecisionV1Data,
  stableId,
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
}

/** The deploy decision for one reconcile. Pure: the same inputs give the same event and id. */
export function decisionFor(ctx: DecisionContext, outcome: ReconcileOutcome): DeployDecisionRecordedV1 {
  const actors = actorsOfCommit(ctx.source);
  const base = {
    decidedBy: { kind: 'Sync' as const, namespace: ctx.sync.namespace, name: ctx.sync.name },
    cluster: ctx.cluster,
    actor: actors[0] ?? CAPSTAN_ACTOR,
    actors,
    source: ctx.source,
    decidedAt: ctx.now.toISOString(),
  };
  const data =
    outcome.kind === 'applied'
      ? DeployDecisionV1Data.parse({
          ...base,
          action: 'applied',
          outcome: outcome.changeSet.every((c) => c.action === 'unchanged') ? 'noop' : 'succeeded',
          reason: 'ReconciliationSucceeded',
          message: `applied revision ${ctx.source.revision}: ${summarize(outcome.changeSet)}`,
          targets: outcome.changeSet.map(({ apiVersion, kind, namespace, name }) => ({
            apiVersion,
            kind,
            namespace,
            name,
          })),
          changeSet: outcome.changeSet,
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
