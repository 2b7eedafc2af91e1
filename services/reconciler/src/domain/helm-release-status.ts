import { setCondition, type Condition } from '@capstan/gitops-core';
import type { ReleaseOutcome } from './outcome.js';
import type { ReleaseRetry } from './release-retry.js';

/** Helm Operator's phases, as far as a rendering reconciler goes through them. */
export type ReleasePhase =
  'Deployed' | 'ChartFetchFailed' | 'DeployFailed' | 'TestFailed' | 'RolledBack' | 'RollbackFailed';

export interface HelmReleaseStatus {
  phase: ReleasePhase;
  releaseName: string;
  /** What `helm status` would say: deployed or failed. */
  releaseStatus: 'deployed' | 'failed';
  /** The chart version rendered (Helm Operator's `revision`). */
  revision?: string;
  valuesDigest?: string;
  /** The Git revision attempted. */
  lastAttemptedRevision: string;
  /** The Git revision it last deployed at: what a rollback goes back to. Kept while it fails. */
  lastDeployedRevision?: string;
  observedGeneration?: number;
  /** Retryable failures in a row of this spec (the release's own backoff); absent when none. */
  retries?: number;
  /** When the release is attempted again; absent unless it waits out a retryable failure. */
  nextRetryAt?: string;
  conditions: Condition[];
}

/** What one HelmRelease went through in one reconcile of its Sync. */
export interface ReleaseObservation {
  release: ReleaseOutcome;
  releaseName: string;
  /** The Sync's own failure, when the whole set was not applied (the release with it). */
  syncFailure?: string;
  /** The Git revision attempted. */
  revision: string;
  /** Its own retry state after this reconcile, when it failed in a way worth retrying. */
  retry?: ReleaseRetry;
  /** The HelmRelease object as it is now (its generation and conditions). */
  live?: { generation?: number; conditions?: Condition[] };
}

/**
 * A HelmRelease's status as Helm Operator showed it (phase, releaseName, releaseStatus,
 * revision, observedGeneration) with kstatus conditions (Ready, Released). Pure: the one
 * computation; the writer only patches it.
 */
export function helmReleaseStatus(o: ReleaseObservation, now: Date): HelmReleaseStatus {
  const failure = o.syncFailure ?? o.release.failure?.message;
  const phase = phaseOf(o);
  const gen = o.live?.generation === undefined ? {} : { observedGeneration: o.live.generation };
  const notHonoured = o.release.options?.notHonoured ?? [];
  const message =
    (failure ??
      `release ${o.releaseName} rendered${o.release.chart ? ` from ${o.release.chart.name}-${o.release.chart.version}` : ''} and applied at ${o.revision}`) +
    (notHonoured.length > 0 ? `; not honoured: ${notHonoured.join('; ')}` : '');
  let conditions = setCondition(
    o.live?.conditions ?? [],
    { type: 'Released', status: failure ? 'False' : 'True', reason: phase, message, ...gen },
    now,
  );
  // A refusal says why in Ready's reason (CrossNamespaceRefNotAllowed); the phase stays Helm Operator's.
  const reason = (o.syncFailure === undefined ? o.release.failure?.reason : undefined) ?? phase;
  conditions = setCondition(
    conditions,
    { type: 'Ready', status: failure ? 'False' : 'True', reason, message, ...gen },
    now,
  );
  // A chart that did not answer is retried; a bad release (or one held after its rollback)
  // waits for a new commit (kstatus Stalled).
  const stalled =
    failure !== undefined && (o.release.failure?.terminal !== false || o.retry?.nextAttemptAt === Infinity);
  conditions =
    stalled && phase !== 'ChartFetchFailed'
      ? setCondition(conditions, { type: 'Stalled', status: 'True', reason: phase, message, ...gen }, now)
      : conditions.filter((c) => c.type !== 'Stalled');
  return {
    phase,
    releaseName: o.releaseName,
    // A rolled-back release runs the last deployed objects: Helm says deployed (the older revision).
    releaseStatus: failure && phase !== 'RolledBack' ? 'failed' : 'deployed',
    ...(o.release.chart ? { revision: o.release.chart.version } : {}),
    ...(o.release.valuesDigest ? { valuesDigest: o.release.valuesDigest } : {}),
    lastAttemptedRevision: o.revision,
    ...(failure === undefined ? { lastDeployedRevision: o.revision } : {}),
    ...gen,
    ...(o.retry ? { retries: o.retry.failures } : {}),
    ...(o.retry && Number.isFinite(o.retry.nextAttemptAt)
      ? { nextRetryAt: new Date(o.retry.nextAttemptAt).toISOString() }
      : {}),
    conditions,
  };
}

function phaseOf(o: ReleaseObservation): ReleasePhase {
  if (o.syncFailure !== undefined) return 'DeployFailed';
  const f = o.release.failure;
  if (!f) return 'Deployed';
  if (f.rolledBackTo !== undefined) return 'RolledBack';
  if (f.rollbackFailure !== undefined) return 'RollbackFailed';
  if (f.stage === 'test') return 'TestFailed';
  if (f.stage === 'wait' || f.terminal) return 'DeployFailed';
  return 'ChartFetchFailed';
}
