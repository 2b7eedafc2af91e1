import type { FetchOptions } from '@capstan/git';
import { Inject, Injectable } from '@nestjs/common';
import type { ChangeSetEntry } from '@capstan/events';
import { CLOCK, type Clock } from '@capstan/platform';
import { CapstanResources, Pruner, isNotFound, type Sync, type SyncStatus } from '@capstan/kube';
import {
  RECONCILE_REQUESTED_AT,
  inventoryEntry,
  parseDuration,
  setCondition,
  staleObjects,
  type Condition,
  type InventoryEntry,
  type WatchedObject,
} from '@capstan/gitops-core';
import { ArtifactCache } from './artifact-cache.js';
import { RepositoryCache } from './repository-cache.js';
import { dependencyBlocker } from './domain/dependencies.js';
import { describeUnhealthy, type HealthOutcome } from './domain/outcome.js';
import { ownerLabels } from './domain/ownership.js';
import { HealthWaiter } from './health/health-waiter.js';
import type { Slot } from './keyed-queue.js';

/** spec.timeout when unset: how long health and Helm hooks may take. */
export const DEFAULT_TIMEOUT = '5m';

/** A dependency is not Ready yet: the Sync is retried shortly, nothing is applied meanwhile. */
export class DependencyNotReadyError extends Error {
  override readonly name = 'DependencyNotReadyError';
  constructor(readonly blocker: string) {
    super(blocker);
  }
}

/**
 * The steps around apply that make a Sync a good citizen among others: fetch once per commit,
 * wait for dependencies, prune what left Git, wait for health, and acknowledge reconcile
 * requests. Kept out of SyncReconciler so its phase skeleton stays readable.
 */
@Injectable()
export class SyncLifecycle {
  constructor(
    private readonly resources: CapstanResources,
    private readonly artifacts: ArtifactCache,
    private readonly pruner: Pruner,
    private readonly health: HealthWaiter,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repositories: RepositoryCache,
  ) {}

  /** Brings the commit into the local mirror, once for all Syncs of the repository. */
  fetch(url: string, sha: string, options: FetchOptions = {}): Promise<void> {
    return this.artifacts.ensure(url, sha, options);
  }

  /** Throws DependencyNotReadyError (after saying so in status) when a dependency is not Ready. */
  async checkDependencies(sync: Sync): Promise<void> {
    for (const dep of sync.spec.dependsOn ?? []) {
      const namespace = dep.namespace ?? sync.metadata.namespace;
      const blocker = dependencyBlocker(await this.dependencyState(namespace, dep.name));
      if (!blocker) continue;
      const generation = sync.metadata.generation;
      const gen = generation === undefined ? {} : { observedGeneration: generation };
      let conditions = setCondition(
        sync.status?.conditions ?? [],
        { type: 'Ready', status: 'False', reason: 'DependencyNotReady', message: blocker, ...gen },
        this.clock.now(),
      );
      conditions = conditions.filter((c) => c.type !== 'Stalled' && c.type !== 'Reconciling');
      await this.resources.patchStatus('Sync', sync.metadata.namespace, sync.metadata.name, {
        conditions,
        ...this.handled(sync),
      });
      throw new DependencyNotReadyError(blocker);
    }
  }

  /** Deletes what left Git since the last inventory; never when the Sync says prune: false. */
  async prune(sync: Sync, next: readonly InventoryEntry[]): Promise<ChangeSetEntry[]> {
    if (sync.spec.prune === false) return [];
    const previous = sync.status?.inventory?.entries ?? [];
    const stale = staleObjects(previous, next);
    if (stale.length === 0) return [];
    return this.pruner.prune(stale, ownerLabels(sync.metadata));
  }

  /**
   * With spec.wait, waits for every applied object to be healthy within spec.timeout, keeping
   * Ready=False (Progressing) and Reconciling=True in status meanwhile, naming what it waits for.
   * Waiting is not work: the reconcile gives its queue slot back meanwhile.
   */
  async waitHealthy(
    sync: Sync,
    changeSet: readonly ChangeSetEntry[],
    slot?: Slot,
    { always = false, observed = [] }: { always?: boolean; observed?: readonly WatchedObject[] } = {},
  ): Promise<HealthOutcome | undefined> {
    // `always`: Helm post-* hooks wait for their release's health even without spec.wait.
    if (!sync.spec.wait && !always) return undefined;
    const refs = changeSet
      .filter((c) => c.action !== 'skipped' && c.action !== 'deleted')
      .map((c) => ({
        apiVersion: c.apiVersion,
        kind: c.kind,
        metadata: { name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) },
      }));
    const timeout = parseDuration(sync.spec.timeout ?? DEFAULT_TIMEOUT);
    const wait = () =>
      this.health.waitHealthy(
        refs,
        timeout,
        async (unhealthy) => {
          const outcome = { healthy: false, timedOut: false, unhealthy: unhealthy.map(flatten) };
          const message = `waiting for ${describeUnhealthy(outcome)}`;
          const now = this.clock.now();
          const gen =
            sync.metadata.generation === undefined ? {} : { observedGeneration: sync.metadata.generation };
          let conditions: Condition[] = setCondition(
            sync.status?.conditions ?? [],
            { type: 'Ready', status: 'False', reason: 'Progressing', message, ...gen },
            now,
          );
          conditions = setCondition(
            conditions,
            { type: 'Reconciling', status: 'True', reason: 'Progressing', message, ...gen },
            now,
          );
          await this.resources.patchStatus('Sync', sync.metadata.namespace, sync.metadata.name, {
            conditions,
          });
        },
        observed,
      );
    const report = slot ? await slot.aside(wait) : await wait();
    return { healthy: report.healthy, timedOut: report.timedOut, unhealthy: report.unhealthy.map(flatten) };
  }

  /** Status fields acknowledging a `capstan reconcile` request (Flux's lastHandledReconcileAt). */
  handled(sync: Sync): Pick<SyncStatus, 'lastHandledReconcileAt'> {
    const at = sync.metadata.annotations?.[RECONCILE_REQUESTED_AT];
    return at ? { lastHandledReconcileAt: at } : {};
  }

  inventoryOf(changeSet: readonly ChangeSetEntry[]): InventoryEntry[] {
    return changeSet.map((c) =>
      inventoryEntry({
        apiVersion: c.apiVersion,
        kind: c.kind,
        metadata: { name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) },
      }),
    );
  }

  private async dependencyState(namespace: string, name: string) {
    const ref = `${namespace}/${name}`;
    let dep: Sync;
    try {
      dep = await this.resources.get('Sync', namespace, name);
    } catch (e) {
      if (isNotFound(e)) return { ref, found: false };
      throw e;
    }
    const repo = await this.repositories.get(
      dep.spec.sourceRef.namespace ?? dep.metadata.namespace,
      dep.spec.sourceRef.name,
    );
    const sourceRevision = repo?.status?.artifact?.revision;
    return {
      ref,
      found: true,
      ...(dep.metadata.generation === undefined ? {} : { generation: dep.metadata.generation }),
      ...(dep.status?.observedGeneration === undefined
        ? {}
        : { observedGeneration: dep.status.observedGeneration }),
      conditions: dep.status?.conditions ?? [],
      ...(dep.status?.lastAppliedRevision ? { lastAppliedRevision: dep.status.lastAppliedRevision } : {}),
      ...(sourceRevision ? { sourceRevision } : {}),
    };
  }
}

function flatten(u: { object: string; health: { status: string; message: string } }) {
  return { object: u.object, status: u.health.status, message: u.health.message };
}
