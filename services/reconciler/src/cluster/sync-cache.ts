import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CapstanResources, KeptWatch, type ResourceInformer, type Sync } from '@capstan/kube';

/**
 * The reconciler's one watch of all Syncs. The reconcile queue and the drift monitor both follow
 * Syncs; each used to run its own watch, so every Sync (with its inventory) was streamed and
 * cached twice. Handlers are attached before `start` (in onModuleInit) so they see the first list.
 */
@Injectable()
export class SyncCache implements OnApplicationShutdown {
  private readonly logger = new Logger('SyncCache');
  readonly informer: ResourceInformer<Sync>;
  readonly watch: KeptWatch<Sync>;
  private started?: Promise<void>;

  constructor(resources: CapstanResources) {
    this.informer = resources.informer('Sync');
    this.watch = new KeptWatch(this.informer, 'Syncs', (m) => this.logger.warn(m));
  }

  /** Starts the watch once, however many users ask; resolves when it has listed. */
  start(): Promise<void> {
    this.started ??= this.watch.start().then(() => this.watch.firstListed);
    return this.started;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.watch.stop();
  }
}
