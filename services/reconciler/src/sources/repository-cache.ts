import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  CapstanResources,
  KeptWatch,
  isNotFound,
  type GitRepository,
  type ResourceInformer,
} from '@capstan/kube';

/**
 * GitRepositories from one watch. Every reconcile needs its source (URL, credentials, ignore
 * rules, the artifact): with a thousand Syncs on one repository, reading it from the API server
 * per reconcile was a thousand GETs per commit. Until the watch has listed, reads go to the API
 * server, so a cold start never sees a missing repository that exists.
 */
@Injectable()
export class RepositoryCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RepositoryCache');
  private informer?: ResourceInformer<GitRepository>;
  private watch?: KeptWatch<GitRepository>;

  constructor(private readonly resources: CapstanResources) {}

  onApplicationBootstrap(): void {
    this.informer = this.resources.informer('GitRepository');
    this.watch = new KeptWatch(this.informer, 'GitRepositories', (m) => this.logger.warn(m));
    void this.watch.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.watch?.stop();
  }

  /** The repository, or undefined when it does not exist. */
  async get(namespace: string, name: string): Promise<GitRepository | undefined> {
    if (this.watch?.synced) return this.informer?.get(name, namespace);
    try {
      return await this.resources.get('GitRepository', namespace, name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
