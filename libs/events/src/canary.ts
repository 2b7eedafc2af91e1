import { z } from 'zod';
import { Actor, DeciderRef, Timestamp } from './common.js';
import { cloudEvent } from './envelope.js';

export const METRIC_SAMPLE_TAKEN_V1 = 'dev.capstan.canary.metric.sampled.v1';

export const MetricSampleTakenV1Data = z.object({
  canary: DeciderRef,
  metric: z.string(),
  query: z.string().optional(),
  /** Null when the query returned no data; a verdict treats that as a failed check. */
  value: z.number().nullable(),
  thresholdRange: z.object({ min: z.number().optional(), max: z.number().optional() }),
  step: z.number().int().nonnegative(),
  canaryWeight: z.number().min(0).max(100),
  sampledAt: Timestamp,
});
export type MetricSampleTakenV1Data = z.infer<typeof MetricSampleTakenV1Data>;
export const MetricSampleTakenV1 = cloudEvent(METRIC_SAMPLE_TAKEN_V1, MetricSampleTakenV1Data);
export type MetricSampleTakenV1 = z.infer<typeof MetricSampleTakenV1>;

export const METRIC_SAMPLED_V2 = 'dev.capstan.canary.metric.sampled.v2';

/**
 * v2 adds what a judge needs to explain itself: the window the query covered, the primary's
 * value beside the canary's, the series compared, the run it belongs to, and a provider error
 * kept apart from "no data" (null value without error).
 */
export const MetricSampledV2Data = z.object({
  canary: DeciderRef,
  run: z.number().int().nonnegative(),
  metric: z.string(),
  query: z.string(),
  window: z.string(),
  canaryValue: z.number().nullable(),
  primaryValue: z.number().nullable().optional(),
  canarySamples: z.array(z.number()).optional(),
  primarySamples: z.array(z.number()).optional(),
  error: z.string().optional(),
  thresholdRange: z.object({ min: z.number().optional(), max: z.number().optional() }),
  step: z.number().int().nonnegative(),
  canaryWeight: z.number().min(0).max(100),
  sampledAt: Timestamp,
});
export type MetricSampledV2Data = z.infer<typeof MetricSampledV2Data>;
export const MetricSampledV2 = cloudEvent(METRIC_SAMPLED_V2, MetricSampledV2Data);
export type MetricSampledV2 = z.infer<typeof MetricSampledV2>;

/** v1 had one value and no window: read it as a v2 sample of run 0 with the metric's default window. */
export function upcastMetricSampleV1(raw: Record<string, unknown>): Record<string, unknown> {
  const data = (raw['data'] ?? {}) as Record<string, unknown>;
  const { value, query, ...rest } = data;
  return {
    ...raw,
    type: METRIC_SAMPLED_V2,
    data: { ...rest, run: 0, query: query ?? '', window: '1m', canaryValue: value ?? null },
  };
}

// ---- Rollout events: the Canary's own stream; the analyzer is a decider over it. ----

export const CanaryPhase = z.enum([
  'Initializing',
  'Initialized',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
  'Succeeded',
  'Failed',
  'Terminating',
  'Terminated',
]);
export type CanaryPhase = z.infer<typeof CanaryPhase>;

export const Verdict = z.enum(['Pass', 'Inconclusive', 'Fail', 'Error']);

export const HookResultSchema = z.object({
  name: z.string(),
  type: z.string(),
  url: z.string(),
  status: z.number().int().optional(),
  ok: z.boolean(),
  message: z.string(),
  attempts: z.number().int(),
});

export const MetricJudgementSchema = z.object({
  metric: z.string(),
  query: z.string(),
  verdict: Verdict,
  reason: z.string(),
  canary: z.number().nullable(),
  primary: z.number().nullable().optional(),
  threshold: z.object({ min: z.number().optional(), max: z.number().optional() }),
  statistic: z.record(z.string(), z.unknown()).optional(),
  error: z.string().optional(),
});

const at = { at: Timestamp };
const Configs = z.record(z.string(), z.string());

export const RolloutEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Initialized'), ...at, revision: z.string(), trackedConfigs: Configs }),
  z.object({
    type: z.literal('RolloutWaiting'),
    ...at,
    revision: z.string(),
    hooks: z.array(HookResultSchema),
  }),
  z.object({
    type: z.literal('RolloutStarted'),
    ...at,
    revision: z.string(),
    trackedConfigs: Configs,
    hooks: z.array(HookResultSchema),
    restart: z.boolean(),
    actor: Actor.optional(),
  }),
  z.object({
    type: z.literal('CheckCompleted'),
    ...at,
    /** pre-rollout: the webhooks before any traffic; analysis: rollout webhooks and metrics. */
    stage: z.enum(['pre-rollout', 'analysis']),
    verdict: Verdict,
    weight: z.number(),
    metrics: z.array(MetricJudgementSchema),
    hooks: z.array(HookResultSchema),
    failedChecks: z.number().int(),
    inconclusiveChecks: z.number().int(),
    consecutiveErrors: z.number().int(),
  }),
  z.object({
    type: z.literal('WeightChanged'),
    ...at,
    from: z.number(),
    to: z.number(),
    iterations: z.number().int(),
  }),
  z.object({ type: z.literal('TrafficIncreaseHeld'), ...at, hooks: z.array(HookResultSchema) }),
  z.object({ type: z.literal('PromotionWaiting'), ...at, hooks: z.array(HookResultSchema) }),
  z.object({ type: z.literal('PromotionStarted'), ...at, revision: z.string(), actor: Actor.optional() }),
  z.object({ type: z.literal('PromotionStepped'), ...at, from: z.number(), to: z.number() }),
  z.object({ type: z.literal('Finalising'), ...at }),
  z.object({ type: z.literal('Succeeded'), ...at, revision: z.string() }),
  z.object({
    type: z.literal('RolledBack'),
    ...at,
    reason: z.string(),
    message: z.string(),
    weight: z.number(),
    actor: Actor.optional(),
    hooks: z.array(HookResultSchema).optional(),
  }),
  z.object({ type: z.literal('Paused'), ...at, actor: Actor }),
  z.object({ type: z.literal('Resumed'), ...at, actor: Actor }),
  /** The Canary was deleted with revertOnDeletion: the target is being given its traffic back. */
  z.object({ type: z.literal('TerminationStarted'), ...at, weight: z.number() }),
  /** The revert is done: the target runs `replicas` pods and the apex Service selects them. */
  z.object({ type: z.literal('Terminated'), ...at, replicas: z.number().int() }),
]);
export type RolloutEvent = z.infer<typeof RolloutEvent>;

export const CANARY_ROLLOUT_RECORDED_V1 = 'dev.capstan.canary.rollout.recorded.v1';

/**
 * One step of one Canary's rollout: the events one decision produced, published as one message
 * so a crash never leaves half a step (a check recorded without the rollback it caused).
 */
export const CanaryRolloutRecordedV1Data = z.object({
  canary: DeciderRef,
  /** The Canary object's uid: a Canary deleted and re-created starts a new stream. */
  uid: z.string(),
  /** 1-based step number in the Canary's stream. */
  step: z.number().int().positive(),
  events: z.array(RolloutEvent).min(1),
});
export type CanaryRolloutRecordedV1Data = z.infer<typeof CanaryRolloutRecordedV1Data>;
export const CanaryRolloutRecordedV1 = cloudEvent(CANARY_ROLLOUT_RECORDED_V1, CanaryRolloutRecordedV1Data);
export type CanaryRolloutRecordedV1 = z.infer<typeof CanaryRolloutRecordedV1>;

// ---- Commands from people: promote, abort, retry, pause, resume (NATS request/reply). ----

/**
 * A person's command on a Canary, sent by the audit API (which authenticated them and checked
 * RBAC) to the canary-analyzer over NATS request/reply, so the answer (done, rejected in this
 * phase, not found) goes back to the caller. Not a stored event: what it causes is.
 */
export const CanaryCommandRequest = z.object({
  namespace: z.string().min(1),
  name: z.string().min(1),
  verb: z.enum(['promote', 'abort', 'retry', 'pause', 'resume']),
  actor: Actor,
});
export type CanaryCommandRequest = z.infer<typeof CanaryCommandRequest>;
export type CanaryVerb = CanaryCommandRequest['verb'];

export type CanaryCommandReply =
  | { ok: true; phase: string; message: string }
  | { ok: false; code: 'NotFound' | 'Rejected' | 'Invalid' | 'Failed'; message: string };

/** Outside the events stream's subjects on purpose: commands are requests, not facts to keep. */
export const canaryCommandSubject = (prefix: string) => `${prefix}.canaryctl.command`;
