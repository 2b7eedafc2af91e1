import type { CanaryModel } from '../spec.js';
import { ACTIVE_PHASES, type RolloutState } from './state.js';

/** What the shell sees in the cluster before a tick. */
export interface Observation {
  targetFound: boolean;
  /** Pod template hash + tracked config checksums of the target (undefined when not found). */
  revision?: string;
  trackedConfigs: Record<string, string>;
  canaryReady: boolean;
  primaryReady: boolean;
  /** Whether the primary and the routing objects exist (a fresh Canary has none). */
  initialized: boolean;
}

/**
 * The one thing to do now. The shell gathers what it needs (webhooks, metrics) for that and
 * hands the results to `decide`; nothing here does I/O. `waitMs` says when to ask again.
 */
export type NextAction =
  | { kind: 'wait'; reason: string; waitMs: number }
  | { kind: 'initialize' }
  | { kind: 'start'; restart: boolean }
  | {
      kind: 'check';
      stage: 'pre-rollout' | 'analysis';
      gate: 'confirm-traffic-increase' | 'confirm-promotion';
    }
  | { kind: 'skip-analysis' }
  | { kind: 'rollback'; reason: string; message: string }
  | { kind: 'promote-step' }
  | { kind: 'finalise' };

export function nextAction(
  state: RolloutState,
  model: CanaryModel,
  obs: Observation,
  nowMs: number,
): NextAction {
  if (model.suspend) return { kind: 'wait', reason: 'suspended', waitMs: model.intervalMs };
  const active = ACTIVE_PHASES.includes(state.phase);
  if (!obs.targetFound) {
    if (active)
      return {
        kind: 'rollback',
        reason: 'TargetNotFound',
        message: `Deployment ${model.namespace}/${model.target} not found`,
      };
    return {
      kind: 'wait',
      reason: `Deployment ${model.namespace}/${model.target} not found`,
      waitMs: model.intervalMs,
    };
  }
  if (state.phase === 'Initializing' || !obs.initialized) return { kind: 'initialize' };
  const due = dueIn(state, model, nowMs);
  const revision = obs.revision;
  const isNew = revision !== undefined && revision !== state.revision && revision !== state.promotedRevision;
  if (active && revision !== undefined && revision !== state.revision)
    return { kind: 'start', restart: true };
  if (state.phase === 'Initialized' || state.phase === 'Succeeded' || state.phase === 'Failed') {
    if (!isNew) return { kind: 'wait', reason: 'no new revision', waitMs: model.intervalMs };
    if (!obs.primaryReady) return { kind: 'wait', reason: 'primary not ready', waitMs: 1_000 };
    return { kind: 'start', restart: false };
  }
  if (state.paused) return { kind: 'wait', reason: 'paused', waitMs: model.intervalMs };
  if (due > 0) return { kind: 'wait', reason: 'interval', waitMs: due };
  switch (state.phase) {
    case 'Waiting':
      return { kind: 'start', restart: false };
    case 'Progressing':
    case 'WaitingPromotion': {
      if (!obs.canaryReady) {
        const since = Date.parse(state.runStartedAt ?? state.lastStepAt ?? '') || nowMs;
        if (nowMs - since > model.progressDeadlineMs)
          return {
            kind: 'rollback',
            reason: 'ProgressDeadlineExceeded',
            message: `canary deployment ${model.target}.${model.namespace} not ready after ${model.progressDeadlineMs / 1000}s`,
          };
        return { kind: 'wait', reason: 'canary not ready', waitMs: 1_000 };
      }
      if (model.skipAnalysis) return { kind: 'skip-analysis' };
      const stage = state.preRolloutPassed ? 'analysis' : 'pre-rollout';
      const atMax =
        model.strategy === 'canary'
          ? state.canaryWeight >= model.maxWeight
          : state.iterations + 1 >= model.iterations;
      return {
        kind: 'check',
        stage,
        gate: atMax && stage === 'analysis' ? 'confirm-promotion' : 'confirm-traffic-increase',
      };
    }
    case 'Promoting':
      if (!obs.primaryReady) return { kind: 'wait', reason: 'promoted primary not ready', waitMs: 1_000 };
      return { kind: 'promote-step' };
    case 'Finalising':
      return { kind: 'finalise' };
    case 'Terminating':
    case 'Terminated':
      return { kind: 'wait', reason: state.phase, waitMs: model.intervalMs };
  }
}

/** Milliseconds until the next step is due (<= 0: now). */
export function dueIn(state: RolloutState, model: CanaryModel, nowMs: number): number {
  if (state.lastStepAt === undefined) return 0;
  return Date.parse(state.lastStepAt) + model.intervalMs - nowMs;
}
