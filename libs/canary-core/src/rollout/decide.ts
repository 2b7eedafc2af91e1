import type { Actor, RolloutEvent } from '@capstan/events';
import type { CanaryModel } from '../spec.js';
import {
  countVerdict,
  intervalVerdict,
  judgeMetric,
  limitReached,
  type Measurement,
  type Verdict,
} from '../judge/verdict.js';
import { gateOf, type HookResult } from '../webhooks/webhook-rules.js';
import { ACTIVE_PHASES, type RolloutState } from './state.js';

/** Everything `decide` can be asked. `at` is the decision time (ISO), always passed in. */
export type RolloutCommand =
  | { type: 'Initialize'; at: string; revision: string; trackedConfigs: Record<string, string> }
  | {
      type: 'StartRollout';
      at: string;
      revision: string;
      trackedConfigs: Record<string, string>;
      restart: boolean;
      /** confirm-rollout answers (none for a restart). */
      hooks: HookResult[];
    }
  | {
      type: 'RunCheck';
      at: string;
      stage: 'pre-rollout' | 'analysis';
      /** pre-rollout or rollout webhook answers. */
      hooks: HookResult[];
      measurements: Measurement[];
      /** confirm-traffic-increase / confirm-promotion answers, asked only when the check passed. */
      gateHooks: HookResult[];
      rollbackHooks: HookResult[];
    }
  | { type: 'SkipAnalysis'; at: string }
  | { type: 'StepPromotion'; at: string }
  | { type: 'Finalise'; at: string }
  | { type: 'RollBack'; at: string; reason: string; message: string }
  | { type: 'Promote' | 'Abort' | 'Retry' | 'Pause' | 'Resume'; at: string; actor: Actor }
  /** The Canary was deleted with revertOnDeletion; `replicas` once the target is reverted. */
  | { type: 'Terminate'; at: string }
  | { type: 'CompleteTermination'; at: string; replicas: number };

export type ManualVerb = 'Promote' | 'Abort' | 'Retry' | 'Pause' | 'Resume';

/** A command that the rollout's phase does not allow (a person promoting a Succeeded canary...). */
export class RolloutCommandRejected extends Error {
  constructor(
    readonly command: RolloutCommand['type'],
    readonly phase: string,
    readonly why: string,
  ) {
    super(`${command} rejected in phase ${phase}: ${why}`);
    this.name = 'RolloutCommandRejected';
  }
}

export function decide(cmd: RolloutCommand, s: RolloutState, model: CanaryModel): RolloutEvent[] {
  const at = cmd.at;
  switch (cmd.type) {
    case 'Initialize':
      if (s.phase !== 'Initializing') return [];
      return [{ type: 'Initialized', at, revision: cmd.revision, trackedConfigs: cmd.trackedConfigs }];
    case 'StartRollout':
      if (gateOf('confirm-rollout', cmd.hooks) === 'hold')
        return [{ type: 'RolloutWaiting', at, revision: cmd.revision, hooks: cmd.hooks }];
      return [
        {
          type: 'RolloutStarted',
          at,
          revision: cmd.revision,
          trackedConfigs: cmd.trackedConfigs,
          hooks: cmd.hooks,
          restart: cmd.restart,
        },
      ];
    case 'RunCheck':
      return runCheck(cmd, s, model);
    case 'SkipAnalysis':
      requireActive(cmd.type, s);
      return [{ type: 'PromotionStarted', at, revision: s.revision ?? '' }];
    case 'StepPromotion': {
      if (s.phase !== 'Promoting') return [];
      const to = model.stepWeightPromotion ? Math.max(0, s.canaryWeight - model.stepWeightPromotion) : 0;
      const out: RolloutEvent[] = [];
      if (to > 0) out.push({ type: 'PromotionStepped', at, from: s.canaryWeight, to });
      else out.push({ type: 'Finalising', at });
      return out;
    }
    case 'Finalise':
      if (s.phase !== 'Finalising') return [];
      return [{ type: 'Succeeded', at, revision: s.revision ?? '' }];
    case 'RollBack':
      if (!ACTIVE_PHASES.includes(s.phase)) return [];
      return [{ type: 'RolledBack', at, reason: cmd.reason, message: cmd.message, weight: s.canaryWeight }];
    case 'Promote':
      requireActive(cmd.type, s);
      return [{ type: 'PromotionStarted', at, revision: s.revision ?? '', actor: cmd.actor }];
    case 'Abort':
      requireActive(cmd.type, s);
      return [
        {
          type: 'RolledBack',
          at,
          reason: 'Aborted',
          message: `Rollout aborted by ${cmd.actor.name}`,
          weight: s.canaryWeight,
          actor: cmd.actor,
        },
      ];
    case 'Retry':
      if (s.phase !== 'Failed' || s.revision === undefined || s.revision === s.promotedRevision)
        throw new RolloutCommandRejected(
          cmd.type,
          s.phase,
          'only a Failed rollout of a new revision can be retried',
        );
      return [
        {
          type: 'RolloutStarted',
          at,
          revision: s.revision,
          trackedConfigs: s.trackedConfigs,
          hooks: [],
          restart: false,
          actor: cmd.actor,
        },
      ];
    case 'Pause':
      requireActive(cmd.type, s);
      if (s.paused) return [];
      return [{ type: 'Paused', at, actor: cmd.actor }];
    case 'Resume':
      if (!s.paused) throw new RolloutCommandRejected(cmd.type, s.phase, 'the rollout is not paused');
      return [{ type: 'Resumed', at, actor: cmd.actor }];
    case 'Terminate':
      if (s.phase === 'Terminating' || s.phase === 'Terminated') return [];
      return [{ type: 'TerminationStarted', at, weight: s.canaryWeight }];
    case 'CompleteTermination':
      if (s.phase !== 'Terminating') return [];
      return [{ type: 'Terminated', at, replicas: cmd.replicas }];
  }
}

function requireActive(command: RolloutCommand['type'], s: RolloutState): void {
  if (!ACTIVE_PHASES.includes(s.phase))
    throw new RolloutCommandRejected(
      command,
      s.phase,
      'no rollout in progress (Progressing, Waiting or WaitingPromotion)',
    );
}

function runCheck(
  cmd: Extract<RolloutCommand, { type: 'RunCheck' }>,
  s: RolloutState,
  model: CanaryModel,
): RolloutEvent[] {
  if (s.phase !== 'Progressing' && s.phase !== 'WaitingPromotion') return [];
  const at = cmd.at;
  if (gateOf('rollback', cmd.rollbackHooks) === 'rollback')
    return [
      {
        type: 'RolledBack',
        at,
        reason: 'RollbackWebhook',
        message: `Rolling back: rollback webhook ${cmd.rollbackHooks
          .filter((h) => h.ok)
          .map((h) => h.name)
          .join(', ')} answered`,
        weight: s.canaryWeight,
        hooks: cmd.rollbackHooks,
      },
    ];
  const metrics = cmd.stage === 'analysis' ? cmd.measurements.map((m) => judge(model, m)) : [];
  const hooksVerdict: Verdict =
    gateOf(cmd.stage === 'pre-rollout' ? 'pre-rollout' : 'rollout', cmd.hooks) === 'proceed'
      ? 'Pass'
      : 'Fail';
  const verdict = intervalVerdict([hooksVerdict, ...metrics.map((m) => m.verdict)]);
  const counters = countVerdict(s, verdict);
  const check: RolloutEvent = {
    type: 'CheckCompleted',
    at,
    stage: cmd.stage,
    verdict,
    weight: s.canaryWeight,
    metrics,
    hooks: cmd.hooks,
    ...counters,
  };
  if (verdict !== 'Pass') {
    const limit = limitReached(counters, model);
    if (!limit) return [check];
    return [
      check,
      {
        type: 'RolledBack',
        at,
        reason: limit,
        message: rollbackMessage(limit, counters, model),
        weight: s.canaryWeight,
      },
    ];
  }
  if (cmd.stage === 'pre-rollout' && model.strategy !== 'canary') return [check];
  return [check, ...advance(cmd, s, model)];
}

function advance(
  cmd: Extract<RolloutCommand, { type: 'RunCheck' }>,
  s: RolloutState,
  model: CanaryModel,
): RolloutEvent[] {
  const at = cmd.at;
  if (model.strategy === 'canary') {
    if (s.canaryWeight < model.maxWeight) {
      if (gateOf('confirm-traffic-increase', cmd.gateHooks) === 'hold')
        return [{ type: 'TrafficIncreaseHeld', at, hooks: cmd.gateHooks }];
      const to = model.steps.find((w) => w > s.canaryWeight) ?? model.maxWeight;
      return [{ type: 'WeightChanged', at, from: s.canaryWeight, to, iterations: s.iterations }];
    }
  } else if (s.iterations + 1 < model.iterations) {
    return [
      { type: 'WeightChanged', at, from: s.canaryWeight, to: s.canaryWeight, iterations: s.iterations + 1 },
    ];
  }
  if (gateOf('confirm-promotion', cmd.gateHooks) === 'hold')
    return s.phase === 'WaitingPromotion' ? [] : [{ type: 'PromotionWaiting', at, hooks: cmd.gateHooks }];
  return [{ type: 'PromotionStarted', at, revision: s.revision ?? '' }];
}

function judge(model: CanaryModel, m: Measurement) {
  const metric = model.metrics.find((x) => x.name === m.metric);
  if (!metric)
    return {
      metric: m.metric,
      query: m.query,
      verdict: 'Error' as const,
      reason: 'not a metric of this Canary',
      canary: m.canary,
      threshold: {},
    };
  return judgeMetric(metric, m);
}

function rollbackMessage(
  limit: string,
  c: { failedChecks: number; inconclusiveChecks: number; consecutiveErrors: number },
  m: CanaryModel,
): string {
  switch (limit) {
    case 'FailedChecksThreshold':
      return `Rolling back: canary failed checks threshold reached ${c.failedChecks}/${m.threshold}`;
    case 'InconclusiveLimit':
      return `Rolling back: ${c.inconclusiveChecks} inconclusive checks (limit ${m.inconclusiveLimit}), no verdict without data`;
    default:
      return `Rolling back: metrics provider failed ${c.consecutiveErrors} times in a row (limit ${m.consecutiveErrorLimit})`;
  }
}
