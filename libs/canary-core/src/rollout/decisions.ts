import {
  stableId,
  type Actor,
  type DeployDecisionV1DataInput,
  type ObjectRef,
  type RolloutEvent,
} from '@capstan/events';

/**
 * Rollout events as deploy decisions for the audit log. One decide() call is one step: a check
 * and what followed from it become one decision carrying the metrics (query, canary and primary
 * values, threshold, statistic, verdict), the webhook answers and the weight before and after.
 */
export interface DecisionContext {
  namespace: string;
  name: string;
  uid: string;
  cluster: string;
  targets: ObjectRef[];
  image?: { repository: string; tag: string };
  run: number;
}

export interface CanaryDecision {
  id: string;
  data: DeployDecisionV1DataInput;
}

export const ANALYZER_ACTOR: Actor = { kind: 'capstan', name: 'canary-analyzer', evidence: 'controller' };

/** `events` are one step's events; `step` its number in the Canary's stream (ids derive from it). */
export function decisionsFor(
  events: readonly RolloutEvent[],
  step: number,
  ctx: DecisionContext,
): CanaryDecision[] {
  const out: CanaryDecision[] = [];
  let pendingCheck: Extract<RolloutEvent, { type: 'CheckCompleted' }> | undefined;
  events.forEach((e, i) => {
    const seq = `${step}.${i}`;
    if (e.type === 'CheckCompleted') {
      if (e.verdict === 'Pass') {
        pendingCheck = e;
        // A passing check that changes nothing (at a held gate) still gets its decision below.
        if (i === events.length - 1)
          out.push(
            make(
              ctx,
              seq,
              e,
              'canary.advanced',
              'noop',
              'CheckPassed',
              `Check passed at weight ${e.weight}`,
              check(e),
            ),
          );
        return;
      }
      out.push(
        make(ctx, seq, e, 'canary.check-failed', 'failed', `Check${e.verdict}`, checkSummary(e), check(e)),
      );
      return;
    }
    const evidence: Record<string, unknown> = pendingCheck ? check(pendingCheck) : {};
    pendingCheck = undefined;
    const d = describe(e);
    if (d)
      out.push(
        make(ctx, seq, e, d.action, d.outcome, d.reason, d.message, { ...evidence, ...d.evidence }, d.actor),
      );
  });
  return out;
}

type Described = {
  action: DeployDecisionV1DataInput['action'];
  outcome: DeployDecisionV1DataInput['outcome'];
  reason: string;
  message: string;
  evidence: Record<string, unknown>;
  actor?: Actor;
};

function describe(e: RolloutEvent): Described | undefined {
  const w = (before: number, after: number) => ({ weight: { before, after } });
  switch (e.type) {
    case 'Initialized':
      return {
        action: 'applied',
        outcome: 'succeeded',
        reason: 'Initialized',
        message: 'Primary created, canary scaled to zero',
        evidence: { revision: e.revision, trackedConfigs: e.trackedConfigs },
      };
    case 'RolloutWaiting':
      return {
        action: 'skipped',
        outcome: 'noop',
        reason: 'ConfirmRolloutHeld',
        message: 'Waiting for confirm-rollout approval',
        evidence: { webhooks: e.hooks },
      };
    case 'RolloutStarted':
      return {
        action: 'canary.started',
        outcome: 'succeeded',
        reason: e.actor ? 'Retried' : e.restart ? 'RolloutRestarted' : 'NewRevisionDetected',
        message: e.actor
          ? `Retry requested by ${e.actor.name}`
          : e.restart
            ? `New revision ${e.revision} during the analysis: restarting`
            : `New revision ${e.revision} detected, starting canary analysis`,
        evidence: { revision: e.revision, trackedConfigs: e.trackedConfigs, webhooks: e.hooks },
        ...(e.actor ? { actor: e.actor } : {}),
      };
    case 'WeightChanged':
      return {
        action: 'canary.advanced',
        outcome: 'succeeded',
        reason: e.from === e.to ? 'IterationCompleted' : 'WeightIncreased',
        message:
          e.from === e.to
            ? `Advance iteration ${e.iterations}`
            : `Advance canary weight ${e.from} -> ${e.to}`,
        evidence: { ...w(e.from, e.to), iterations: e.iterations },
      };
    case 'TrafficIncreaseHeld':
      return {
        action: 'skipped',
        outcome: 'noop',
        reason: 'ConfirmTrafficIncreaseHeld',
        message: 'Halt advancement: confirm-traffic-increase did not approve',
        evidence: { webhooks: e.hooks },
      };
    case 'PromotionWaiting':
      return {
        action: 'skipped',
        outcome: 'noop',
        reason: 'ConfirmPromotionHeld',
        message: 'Waiting for confirm-promotion approval',
        evidence: { webhooks: e.hooks },
      };
    case 'PromotionStarted':
      return {
        action: 'canary.advanced',
        outcome: 'succeeded',
        reason: e.actor ? 'PromotedManually' : 'PromotionStarted',
        message: `Copying ${e.revision} to the primary${e.actor ? ` (by ${e.actor.name})` : ''}`,
        evidence: { revision: e.revision },
        ...(e.actor ? { actor: e.actor } : {}),
      };
    case 'PromotionStepped':
      return {
        action: 'canary.advanced',
        outcome: 'succeeded',
        reason: 'PromotionStepped',
        message: `Canary weight ${e.from} -> ${e.to} during promotion`,
        evidence: w(e.from, e.to),
      };
    case 'Finalising':
      return {
        action: 'canary.advanced',
        outcome: 'succeeded',
        reason: 'Finalising',
        message: 'All traffic on the promoted primary; scaling the canary to zero',
        evidence: {},
      };
    case 'Succeeded':
      return {
        action: 'canary.promoted',
        outcome: 'succeeded',
        reason: 'Succeeded',
        message: `Promotion of ${e.revision} completed`,
        evidence: { revision: e.revision },
      };
    case 'RolledBack':
      return {
        action: e.reason === 'Aborted' ? 'canary.aborted' : 'canary.rolled-back',
        outcome: 'failed',
        reason: e.reason,
        message: e.message,
        evidence: { ...w(e.weight, 0), ...(e.hooks ? { webhooks: e.hooks } : {}) },
        ...(e.actor ? { actor: e.actor } : {}),
      };
    case 'Paused':
      return {
        action: 'skipped',
        outcome: 'noop',
        reason: 'Paused',
        message: `Paused by ${e.actor.name}`,
        evidence: {},
        actor: e.actor,
      };
    case 'Resumed':
      return {
        action: 'skipped',
        outcome: 'noop',
        reason: 'Resumed',
        message: `Resumed by ${e.actor.name}`,
        evidence: {},
        actor: e.actor,
      };
    case 'CheckCompleted':
      return undefined;
    case 'TerminationStarted':
      return undefined;
    case 'Terminated':
      return {
        action: 'applied',
        outcome: 'succeeded',
        reason: 'RevertedOnDeletion',
        message: `Canary deleted with revertOnDeletion: ${e.replicas} replicas of the target serve the apex Service again`,
        evidence: { replicas: e.replicas },
      };
  }
}

function check(e: Extract<RolloutEvent, { type: 'CheckCompleted' }>): Record<string, unknown> {
  return {
    check: {
      stage: e.stage,
      verdict: e.verdict,
      metrics: e.metrics,
      webhooks: e.hooks,
      failedChecks: e.failedChecks,
      inconclusiveChecks: e.inconclusiveChecks,
      consecutiveErrors: e.consecutiveErrors,
    },
    weight: { before: e.weight, after: e.weight },
  };
}

function checkSummary(e: Extract<RolloutEvent, { type: 'CheckCompleted' }>): string {
  const parts = [
    ...e.hooks.filter((h) => !h.ok).map((h) => `webhook ${h.name} ${h.status ?? 'no answer'}: ${h.message}`),
    ...e.metrics.filter((m) => m.verdict !== 'Pass').map((m) => `${m.metric} ${m.verdict}: ${m.reason}`),
  ];
  return `${e.verdict} at weight ${e.weight} (failed checks ${e.failedChecks}): ${parts.join('; ')}`;
}

function make(
  ctx: DecisionContext,
  seq: string,
  e: RolloutEvent,
  action: DeployDecisionV1DataInput['action'],
  outcome: DeployDecisionV1DataInput['outcome'],
  reason: string,
  message: string,
  evidence: Record<string, unknown>,
  actor?: Actor,
): CanaryDecision {
  return {
    id: stableId('canary-decision', ctx.uid, seq),
    data: {
      action,
      outcome,
      reason,
      message,
      decidedBy: { kind: 'Canary', namespace: ctx.namespace, name: ctx.name },
      cluster: ctx.cluster,
      actor: actor ?? ANALYZER_ACTOR,
      actors: actor ? [actor] : [],
      ...(ctx.image ? { image: ctx.image } : {}),
      targets: ctx.targets,
      evidence: { ...evidence, run: ctx.run, step: seq, event: e.type },
      decidedAt: e.at,
    },
  };
}
