import { z } from 'zod';
import { Actor, ChangeSetEntry, DeciderRef, GitSource, ObjectRef, Timestamp } from './common.js';
import { cloudEvent } from './envelope.js';

export const DEPLOY_DECISION_RECORDED_V1 = 'dev.capstan.deploy.decision.recorded.v1';

/** Every kind of decision a Capstan service can make. Closed: consumers switch on it exhaustively. */
export const DecisionAction = z.enum([
  'applied',
  'pruned',
  'skipped',
  'failed',
  'drift.detected',
  'drift.corrected',
  'image.updated',
  'canary.started',
  'canary.advanced',
  'canary.check-failed',
  'canary.promoted',
  'canary.rolled-back',
  'canary.aborted',
]);
export type DecisionAction = z.infer<typeof DecisionAction>;

export const DecisionOutcome = z.enum(['succeeded', 'failed', 'noop']);
export type DecisionOutcome = z.infer<typeof DecisionOutcome>;

export const DeployDecisionV1Data = z.object({
  action: DecisionAction,
  outcome: DecisionOutcome,
  /** Machine-readable reason in the kstatus/Flux style: `ReconciliationSucceeded`, `BuildFailed`... */
  reason: z.string().min(1),
  message: z.string(),
  decidedBy: DeciderRef,
  cluster: z.string(),
  actor: Actor,
  /** Everyone who can be credited: author, committer, verified signer. `actor` is the primary one. */
  actors: z.array(Actor).default([]),
  source: GitSource.optional(),
  image: z.object({ repository: z.string(), tag: z.string(), digest: z.string().optional() }).optional(),
  /** The objects this decision is about; for a reconcile, every object of the change set. */
  targets: z.array(ObjectRef).default([]),
  changeSet: z.array(ChangeSetEntry).default([]),
  /** Diff summaries, policies, metric values and thresholds: the why behind the decision. */
  evidence: z.record(z.string(), z.unknown()).default({}),
  decidedAt: Timestamp,
});
export type DeployDecisionV1Data = z.infer<typeof DeployDecisionV1Data>;
export type DeployDecisionV1DataInput = z.input<typeof DeployDecisionV1Data>;
export const DeployDecisionRecordedV1 = cloudEvent(DEPLOY_DECISION_RECORDED_V1, DeployDecisionV1Data);
export type DeployDecisionRecordedV1 = z.infer<typeof DeployDecisionRecordedV1>;
