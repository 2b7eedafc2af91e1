import type { CanaryModel, WebhookType } from '../spec.js';
import type { Measurement } from '../judge/verdict.js';
import { hooksOfType, type HookResult } from '../webhooks/webhook-rules.js';
import { decide, type RolloutCommand } from './decide.js';
import type { NextAction } from './next-action.js';
import type { RolloutState } from './state.js';

/**
 * What a step may need from the outside world. The analyzer answers with real webhooks and
 * Prometheus; the core's tests answer from fixtures. Either way the same function below turns
 * an action into its command, so the two cannot drift apart.
 */
export interface StepInputs {
  /** The target's revision and tracked config checksums, as observed for this tick. */
  revision: string;
  trackedConfigs: Record<string, string>;
  /** Calls the Canary's webhooks of one type (in order) and returns their answers. */
  hooks(type: WebhookType): Promise<HookResult[]> | HookResult[];
  /** Measures the Canary's metrics for this interval. */
  measure(): Promise<Measurement[]> | Measurement[];
}

/**
 * The command that carries out `action` at `at`, asking `inputs` only for what it needs:
 * confirm-rollout hooks for a start (none for a restart), rollback + pre-rollout/rollout hooks and
 * (for an analysis) the metrics for a check, and the confirm-traffic-increase/confirm-promotion
 * gate only when the check passed and would move the rollout on (Flagger asks gates then, and a
 * gate that is asked needlessly may have side effects such as a Slack approval request).
 */
export async function commandFor(
  action: Exclude<NextAction, { kind: 'wait' }>,
  state: RolloutState,
  model: CanaryModel,
  at: string,
  inputs: StepInputs,
): Promise<RolloutCommand> {
  switch (action.kind) {
    case 'initialize':
      return { type: 'Initialize', at, revision: inputs.revision, trackedConfigs: inputs.trackedConfigs };
    case 'start':
      return {
        type: 'StartRollout',
        at,
        revision: inputs.revision,
        trackedConfigs: inputs.trackedConfigs,
        restart: action.restart,
        hooks: action.restart ? [] : await inputs.hooks('confirm-rollout'),
      };
    case 'check': {
      const rollbackHooks = await inputs.hooks('rollback');
      const hooks = await inputs.hooks(action.stage === 'pre-rollout' ? 'pre-rollout' : 'rollout');
      const measurements = action.stage === 'analysis' ? await inputs.measure() : [];
      const cmd: RolloutCommand = {
        type: 'RunCheck',
        at,
        stage: action.stage,
        hooks,
        measurements,
        gateHooks: [],
        rollbackHooks,
      };
      if (hooksOfType(model.webhooks, action.gate).length === 0) return cmd;
      const moves = decide(cmd, state, model).some(
        (e) => e.type === 'WeightChanged' || e.type === 'PromotionStarted',
      );
      return moves ? { ...cmd, gateHooks: await inputs.hooks(action.gate) } : cmd;
    }
    case 'skip-analysis':
      return { type: 'SkipAnalysis', at };
    case 'rollback':
      return { type: 'RollBack', at, reason: action.reason, message: action.message };
    case 'promote-step':
      return { type: 'StepPromotion', at };
    case 'finalise':
      return { type: 'Finalise', at };
  }
}
