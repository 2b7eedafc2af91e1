import type { CanaryPhase, RolloutEvent } from '@capstan/events';
import type { Verdict } from '../judge/verdict.js';

/** A Canary's rollout, folded from its events. Everything the status shows comes from here. */
export interface RolloutState {
  phase: CanaryPhase;
  /** Events folded so far: the next append must be seq + 1. */
  seq: number;
  /** Rollouts started (a retry or a restart starts a new one). */
  run: number;
  /** Flagger's lastAppliedSpec: the revision being (or last) rolled out. */
  revision?: string;
  /** Flagger's lastPromotedSpec: what the primary runs. */
  promotedRevision?: string;
  trackedConfigs: Record<string, string>;
  canaryWeight: number;
  failedChecks: number;
  inconclusiveChecks: number;
  consecutiveErrors: number;
  iterations: number;
  /** When the last analysis step (or phase move) happened: the next waits an interval. */
  lastStepAt?: string;
  /** When the current run started Progressing, for progressDeadlineSeconds. */
  runStartedAt?: string;
  lastTransitionTime?: string;
  paused: boolean;
  /** The run's pre-rollout webhooks passed: later checks run the analysis. */
  preRolloutPassed: boolean;
  lastVerdict?: Verdict;
  reason: string;
  message: string;
}

export const initialState: RolloutState = {
  phase: 'Initializing',
  seq: 0,
  run: 0,
  trackedConfigs: {},
  canaryWeight: 0,
  failedChecks: 0,
  inconclusiveChecks: 0,
  consecutiveErrors: 0,
  iterations: 0,
  paused: false,
  preRolloutPassed: false,
  reason: 'Initializing',
  message: 'Waiting for the primary to be created',
};

function moved(s: RolloutState, phase: CanaryPhase, at: string): RolloutState {
  return s.phase === phase ? { ...s, phase } : { ...s, phase, lastTransitionTime: at };
}

const resetRun = {
  failedChecks: 0,
  inconclusiveChecks: 0,
  consecutiveErrors: 0,
  iterations: 0,
  canaryWeight: 0,
};

/** Folds one event; pure and total, so replaying the stream always gives the same state. */
export function evolve(state: RolloutState, e: RolloutEvent): RolloutState {
  const s = { ...state, seq: state.seq + 1 };
  switch (e.type) {
    case 'Initialized':
      return {
        ...moved(s, 'Initialized', e.at),
        revision: e.revision,
        promotedRevision: e.revision,
        trackedConfigs: e.trackedConfigs,
        lastStepAt: e.at,
        reason: 'Initialized',
        message: 'Installation successful',
      };
    case 'RolloutWaiting':
      return {
        ...moved(s, 'Waiting', e.at),
        lastStepAt: e.at,
        reason: 'Waiting',
        message: 'Waiting for approval (confirm-rollout)',
      };
    case 'RolloutStarted':
      return {
        ...moved(s, 'Progressing', e.at),
        ...resetRun,
        run: s.run + 1,
        revision: e.revision,
        trackedConfigs: e.trackedConfigs,
        paused: false,
        preRolloutPassed: false,
        lastStepAt: e.at,
        runStartedAt: e.at,
        reason: e.restart ? 'RolloutRestarted' : 'Progressing',
        message: e.restart
          ? 'New revision detected during the analysis, restarting'
          : 'New revision detected, starting canary analysis',
      };
    case 'CheckCompleted':
      return {
        ...s,
        lastStepAt: e.at,
        lastVerdict: e.verdict,
        preRolloutPassed: s.preRolloutPassed || (e.stage === 'pre-rollout' && e.verdict === 'Pass'),
        failedChecks: e.failedChecks,
        inconclusiveChecks: e.inconclusiveChecks,
        consecutiveErrors: e.consecutiveErrors,
        reason: `Check${e.verdict}`,
        message: checkMessage(e),
      };
    case 'WeightChanged':
      return {
        ...moved(s, 'Progressing', e.at),
        canaryWeight: e.to,
        iterations: e.iterations,
        lastStepAt: e.at,
        reason: 'Progressing',
        message: e.to === e.from ? `Advance iteration ${e.iterations}` : `Advance canary weight ${e.to}`,
      };
    case 'TrafficIncreaseHeld':
      return {
        ...s,
        lastStepAt: e.at,
        reason: 'Halted',
        message: 'Halt advancement: confirm-traffic-increase did not approve',
      };
    case 'PromotionWaiting':
      return {
        ...moved(s, 'WaitingPromotion', e.at),
        lastStepAt: e.at,
        reason: 'WaitingPromotion',
        message: 'Waiting for approval (confirm-promotion)',
      };
    case 'PromotionStarted':
      return {
        ...moved(s, 'Promoting', e.at),
        lastStepAt: e.at,
        reason: 'Promoting',
        message: `Copying ${e.revision} to the primary${e.actor ? ` (promoted by ${e.actor.name})` : ''}`,
      };
    case 'PromotionStepped':
      return {
        ...s,
        canaryWeight: e.to,
        lastStepAt: e.at,
        message: `Routing ${100 - e.to}% to the promoted primary`,
      };
    case 'Finalising':
      return {
        ...moved(s, 'Finalising', e.at),
        canaryWeight: 0,
        lastStepAt: e.at,
        reason: 'Finalising',
        message: 'Scaling the canary to zero',
      };
    case 'Succeeded':
      return {
        ...moved(s, 'Succeeded', e.at),
        canaryWeight: 0,
        promotedRevision: e.revision,
        lastStepAt: e.at,
        reason: 'Succeeded',
        message: 'Canary analysis completed successfully, promotion finished',
      };
    case 'RolledBack':
      return {
        ...moved(s, 'Failed', e.at),
        canaryWeight: 0,
        paused: false,
        lastStepAt: e.at,
        reason: e.reason,
        message: e.message,
      };
    case 'Paused':
      return { ...s, paused: true, message: `Paused by ${e.actor.name}` };
    case 'Resumed':
      return { ...s, paused: false, lastStepAt: e.at, message: `Resumed by ${e.actor.name}` };
    case 'TerminationStarted':
      return {
        ...moved(s, 'Terminating', e.at),
        paused: false,
        lastStepAt: e.at,
        reason: 'Terminating',
        message: 'Canary deleted: reverting the target (revertOnDeletion)',
      };
    case 'Terminated':
      return {
        ...moved(s, 'Terminated', e.at),
        canaryWeight: 0,
        lastStepAt: e.at,
        reason: 'Terminated',
        message: `Target reverted: ${e.replicas} replicas, the apex Service selects its pods`,
      };
  }
}

function checkMessage(e: Extract<RolloutEvent, { type: 'CheckCompleted' }>): string {
  const bad = [
    ...e.hooks.filter((h) => !h.ok).map((h) => `webhook ${h.name}: ${h.message}`),
    ...e.metrics.filter((m) => m.verdict !== 'Pass').map((m) => `${m.metric}: ${m.reason}`),
  ];
  return bad.length === 0 ? `Check passed at weight ${e.weight}` : `${e.verdict}: ${bad.join('; ')}`;
}

export function fold(events: readonly RolloutEvent[], from: RolloutState = initialState): RolloutState {
  return events.reduce(evolve, from);
}

/** Phases in which an analysis runs and a person can promote, abort or pause. */
export const ACTIVE_PHASES: readonly CanaryPhase[] = ['Progressing', 'Waiting', 'WaitingPromotion'];
