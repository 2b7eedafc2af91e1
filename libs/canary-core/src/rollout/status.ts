import { setCondition, removeCondition, type Condition } from '@capstan/gitops-core';
import type { RolloutState } from './state.js';

/**
 * The Canary's status as a projection of its rollout: Flagger's fields (so `kubectl get canaries`
 * and dashboards keep working), its `Promoted` condition, and kstatus' Ready/Reconciling/Stalled.
 * One function, one patch per tick: the analyzer is the status' only writer.
 */
export interface CanaryStatus {
  phase: string;
  failedChecks: number;
  canaryWeight: number;
  iterations: number;
  trackedConfigs: Record<string, string>;
  lastAppliedSpec: string;
  lastPromotedSpec: string;
  lastTransitionTime: string;
  conditions: Condition[];
  observedGeneration: number;
  /** Capstan's judge counters and the latest verdict. */
  inconclusiveChecks: number;
  consecutiveErrors: number;
  lastVerdict?: string;
  paused: boolean;
  run: number;
}

export interface ProjectionInput {
  generation: number;
  now: Date;
  previous: readonly Condition[];
  /** Set when the spec cannot be read or the cluster refused an effect: shown, not folded. */
  problem?: { reason: string; message: string };
}

export function projectStatus(s: RolloutState, input: ProjectionInput): CanaryStatus {
  const gen = input.generation;
  const promoted: Condition['status'] =
    s.phase === 'Initialized' || s.phase === 'Succeeded'
      ? 'True'
      : s.phase === 'Failed'
        ? 'False'
        : 'Unknown';
  let conditions = setCondition(
    input.previous,
    { type: 'Promoted', status: promoted, reason: s.phase, message: s.message, observedGeneration: gen },
    input.now,
  );
  const settled = s.phase === 'Initialized' || s.phase === 'Succeeded' || s.phase === 'Failed';
  if (input.problem) {
    conditions = setCondition(
      conditions,
      { type: 'Ready', status: 'False', ...input.problem, observedGeneration: gen },
      input.now,
    );
    conditions = setCondition(
      conditions,
      { type: 'Stalled', status: 'True', ...input.problem, observedGeneration: gen },
      input.now,
    );
    conditions = removeCondition(conditions, 'Reconciling');
  } else if (settled) {
    conditions = setCondition(
      conditions,
      {
        type: 'Ready',
        status: s.phase === 'Failed' ? 'False' : 'True',
        reason: s.reason,
        message: s.message,
        observedGeneration: gen,
      },
      input.now,
    );
    conditions = removeCondition(removeCondition(conditions, 'Reconciling'), 'Stalled');
  } else {
    conditions = setCondition(
      conditions,
      { type: 'Reconciling', status: 'True', reason: s.phase, message: s.message, observedGeneration: gen },
      input.now,
    );
    conditions = setCondition(
      conditions,
      { type: 'Ready', status: 'Unknown', reason: s.phase, message: s.message, observedGeneration: gen },
      input.now,
    );
    conditions = removeCondition(conditions, 'Stalled');
  }
  return {
    phase: s.phase,
    failedChecks: s.failedChecks,
    canaryWeight: s.canaryWeight,
    iterations: s.iterations,
    trackedConfigs: s.trackedConfigs,
    lastAppliedSpec: s.revision ?? '',
    lastPromotedSpec: s.promotedRevision ?? '',
    lastTransitionTime: s.lastTransitionTime ?? input.now.toISOString(),
    conditions,
    observedGeneration: gen,
    inconclusiveChecks: s.inconclusiveChecks,
    consecutiveErrors: s.consecutiveErrors,
    ...(s.lastVerdict ? { lastVerdict: s.lastVerdict } : {}),
    paused: s.paused,
    run: s.run,
  };
}
