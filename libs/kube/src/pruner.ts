import type { ChangeSetEntry } from '@capstan/events';
import { describeObject, reconcileMode, type InventoryRef, type KubeObject } from '@capstan/gitops-core';
import { ApplyRejectedError, failureOf, isNotFound } from './errors.js';
import type { ObjectApi } from './object-api.js';

/**
 * Deletes objects that left Git. Only objects still carrying every owner label are deleted:
 * an object adopted by another Sync, or one a person took over, is left alone.
 */
export class Pruner {
  constructor(private readonly api: ObjectApi) {}

  /**
   * `stale` must already be in deletion order (see staleObjects). `keep` may spare a live object
   * with a reason (its HelmRelease failed to render this time, so its absence means nothing).
   */
  async prune(
    stale: readonly InventoryRef[],
    owner: Record<string, string>,
    keep: (live: KubeObject) => string | undefined = () => undefined,
    /** The client that deletes a live object when not the pruner's own (a HelmRelease's account). */
    clientFor: (live: KubeObject) => ObjectApi | undefined = () => undefined,
  ): Promise<ChangeSetEntry[]> {
    const changeSet: ChangeSetEntry[] = [];
    for (const ref of stale) {
      const entry = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        namespace: ref.metadata.namespace ?? '',
        name: ref.metadata.name,
      };
      let live: KubeObject;
      try {
        const raw: unknown = await this.api.read(ref);
        live = raw as KubeObject;
      } catch (e) {
        if (isNotFound(e)) continue; // already gone: nothing to do, nothing to report
        throw new ApplyRejectedError([failureOf(ref as KubeObject, undefined, e)]);
      }
      const labels = live.metadata.labels ?? {};
      if (!Object.entries(owner).every(([k, v]) => labels[k] === v)) {
        changeSet.push({ ...entry, action: 'skipped', message: 'not owned by this Sync' });
        continue;
      }
      const kept = keep(live);
      if (kept !== undefined) {
        changeSet.push({ ...entry, action: 'skipped', message: kept });
        continue;
      }
      if (reconcileMode(live) !== 'managed') {
        changeSet.push({ ...entry, action: 'skipped', message: 'pruning disabled by annotation' });
        continue;
      }
      try {
        await (clientFor(live) ?? this.api).delete(
          ref,
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
        );
      } catch (e) {
        if (isNotFound(e)) continue;
        throw new ApplyRejectedError([failureOf(ref as KubeObject, undefined, e)]);
      }
      changeSet.push({ ...entry, action: 'deleted', message: `deleted ${describeObject(ref)}` });
    }
    return changeSet;
  }
}
