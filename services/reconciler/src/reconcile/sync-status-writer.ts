import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '@capstan/platform';
import { CapstanResources, type Sync } from '@capstan/kube';
import { mergePatchChanges } from '../domain/merge-patch.js';
import { syncStatus, type SyncObservation } from '../domain/sync-status.js';

/**
 * The one writer of Sync status. What to write is `syncStatus`'s answer (pure); this only
 * patches it. A reconcile writes once at its end, plus "waiting for" while a long health wait
 * lasts, and "blocked" when a dependency is not Ready.
 */
@Injectable()
export class SyncStatusWriter {
  constructor(
    private readonly resources: CapstanResources,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * `unlessUnchanged`: the caller knows `sync.status` is what the API server holds (read at the
   * start of its run, nothing written since): a status that would not change it is not sent.
   * Most reconciles (an interval, a gained shard's Syncs after a failover) find nothing new.
   */
  async write(sync: Sync, observation: SyncObservation, unlessUnchanged = false): Promise<void> {
    const status = syncStatus(sync, observation, this.clock.now());
    if (unlessUnchanged && !mergePatchChanges(sync.status, status)) return;
    await this.resources.patchStatus('Sync', sync.metadata.namespace, sync.metadata.name, status);
  }
}
