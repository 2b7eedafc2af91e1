import type { ChangeSetEntry } from '@capstan/events';
import {
  RECONCILE_REQUESTED_AT,
  inventoryEntry,
  readyConditions,
  setCondition,
  type Condition,
  type InventoryEntry,
} from '@capstan/gitops-core';
import type { SyncReleaseStatus, SyncStatus } from '@capstan/kube';
import { describeUnhealthy, isTerminal, type ReconcileOutcome, type ReleaseOutcome } from './outcome.js';

/** What the reconciler knows of a Sync, as far as its status is concerned. */
export interface SyncView {
  metadata: { generation?: number; annotations?: Record<string, string> };
  status?: SyncStatus;
}

/** The moments the reconciler reports on a Sync; status is a function of the last one. */
export type SyncObservation =
  /** A dependency is not Ready: nothing was attempted. */
  | { kind: 'blocked'; message: string }
  /** Applied, and waiting (long enough to say so) for `message`'s objects to become healthy. */
  | { kind: 'progressing'; revision: string; message: string }
  /** The reconcile of `revision` ended with `outcome`. */
  | { kind: 'finished'; revision: string; outcome: ReconcileOutcome };

/**
 * The Sync's status after an observation: the only place Sync status is computed. Pure; the
 * status writer patches its result. Conditions follow kstatus: Ready says the outcome,
 * Reconciling is there only while work is under way, Stalled when retrying cannot help.
 */
export function syncStatus(sync: SyncView, observation: SyncObservation, now: Date): SyncStatus {
  const generation = sync.metadata.generation;
  const gen = generation === undefined ? {} : { observedGeneration: generation };
  const previous = sync.status?.conditions ?? [];
  switch (observation.kind) {
    case 'blocked': {
      const conditions = setCondition(
        previous,
        {
          type: 'Ready',
          status: 'False',
          reason: 'DependencyNotReady',
          message: observation.message,
          ...gen,
        },
        now,
      ).filter((c) => c.type !== 'Stalled' && c.type !== 'Reconciling');
      return { conditions, ...handled(sync) };
    }
    case 'progressing': {
      const progress = {
        status: 'False',
        reason: 'Progressing',
        message: observation.message,
        ...gen,
      } as const;
      let conditions: Condition[] = setCondition(previous, { type: 'Ready', ...progress }, now);
      conditions = setCondition(conditions, { type: 'Reconciling', ...progress, status: 'True' }, now);
      return { lastAttemptedRevision: observation.revision, conditions };
    }
    case 'finished':
      return finishedStatus(sync, observation.revision, observation.outcome, now);
  }
}

function finishedStatus(sync: SyncView, revision: string, outcome: ReconcileOutcome, now: Date): SyncStatus {
  const generation = sync.metadata.generation;
  const gen = generation === undefined ? {} : { generation };
  const health = outcome.kind === 'applied' ? outcome.health : undefined;
  const healthy = outcome.kind === 'applied' && (health?.healthy ?? true);
  const conditions = readyConditions(
    sync.status?.conditions ?? [],
    outcome.kind === 'failed'
      ? {
          ready: false,
          reason: outcome.reason,
          message: outcome.message,
          stalled: isTerminal(outcome.reason),
          ...gen,
        }
      : health && !health.healthy
        ? {
            ready: false,
            reason: 'HealthCheckFailed',
            message: `${health.timedOut ? 'timed out waiting for' : 'unhealthy'}: ${describeUnhealthy(health)}`,
            // Waiting longer cannot help within this revision; the next interval checks again.
            stalled: true,
            ...gen,
          }
        : {
            ready: true,
            reason: 'ReconciliationSucceeded',
            message: `Applied revision: ${revision}${failedReleasesNote(outcome)}`,
            stalled: false,
            ...gen,
          },
    now,
  );
  const inventory = inventoryAfter(sync.status?.inventory?.entries ?? [], outcome);
  const releases = outcome.kind === 'applied' ? releaseStatuses(outcome.releases ?? [], revision) : undefined;
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    lastAttemptedRevision: revision,
    conditions,
    ...handled(sync),
    ...(healthy ? { lastAppliedRevision: revision } : {}),
    ...(inventory ? { inventory: { entries: inventory } } : {}),
    ...(releases ? { releases } : {}),
  };
}

/** Each HelmRelease as Helm Operator showed it: Deployed, or Failed with why. */
export function releaseStatuses(releases: readonly ReleaseOutcome[], revision: string): SyncReleaseStatus[] {
  return releases.map((r) => ({
    namespace: r.namespace,
    name: r.name,
    file: r.file,
    phase: r.failure ? 'Failed' : 'Deployed',
    message: r.failure ? r.failure.message : `rendered and applied at ${revision}`,
    revision,
  }));
}

/**
 * Whether a release's failure only repeats what the Sync already says for this revision: then
 * it gets no new decision until something changes.
 */
export function repeatsReleaseFailure(sync: SyncView, revision: string, release: ReleaseOutcome): boolean {
  return (sync.status?.releases ?? []).some(
    (r) =>
      r.namespace === release.namespace &&
      r.name === release.name &&
      r.revision === revision &&
      r.phase === 'Failed' &&
      r.message === release.failure?.message,
  );
}

/**
 * The inventory after a reconcile, or undefined to keep it. Opted-out objects (fluxcd.io/ignore,
 * capstan.dev/reconcile: disabled) are not Capstan's: they stay out of it, so they are never
 * pruned later either. A failed apply keeps the previous inventory plus whatever it wrote before
 * failing, so reverting the commit prunes a Namespace it left behind.
 */
export function inventoryAfter(
  previous: readonly InventoryEntry[],
  outcome: ReconcileOutcome,
): InventoryEntry[] | undefined {
  if (outcome.kind === 'applied')
    return inventoryOf([...outcome.changeSet.filter((c) => c.action !== 'skipped'), ...(outcome.kept ?? [])]);
  const written = outcome.written ?? [];
  if (written.length === 0) return undefined;
  const entries = [...previous];
  for (const entry of inventoryOf(written)) if (!entries.some((e) => e.id === entry.id)) entries.push(entry);
  return entries;
}

export function inventoryOf(changeSet: readonly ChangeSetEntry[]): InventoryEntry[] {
  return changeSet.map((c) =>
    inventoryEntry({
      apiVersion: c.apiVersion,
      kind: c.kind,
      metadata: { name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) },
    }),
  );
}

/**
 * Whether a failed outcome only repeats what the Sync already says for this revision and
 * generation: then it is the same failure, and gets no new decision until something changes.
 */
export function repeatsFailure(sync: SyncView, revision: string, outcome: ReconcileOutcome): boolean {
  if (outcome.kind !== 'failed' || (outcome.written?.length ?? 0) > 0) return false;
  const ready = sync.status?.conditions?.find((c) => c.type === 'Ready');
  return (
    sync.status?.lastAttemptedRevision === revision &&
    sync.status.observedGeneration === sync.metadata.generation &&
    ready?.status === 'False' &&
    ready.reason === outcome.reason &&
    ready.message === outcome.message
  );
}

/** Status fields acknowledging a `capstan reconcile` request (Flux's lastHandledReconcileAt). */
function handled(sync: SyncView): Pick<SyncStatus, 'lastHandledReconcileAt'> {
  const at = sync.metadata.annotations?.[RECONCILE_REQUESTED_AT];
  return at ? { lastHandledReconcileAt: at } : {};
}

function failedReleasesNote(outcome: ReconcileOutcome): string {
  const failed = outcome.kind === 'applied' ? (outcome.releases ?? []).filter((r) => r.failure) : [];
  if (failed.length === 0) return '';
  return `; failed HelmRelease(s), left out: ${failed.map((r) => `${r.namespace}/${r.name}`).join(', ')}`;
}
