import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CapstanResources, KeptWatch, type GitRepository } from '@capstan/kube';
import { Readiness } from '@capstan/platform';
import { ImageResources, type ImageInformer } from './image-resources.js';
import type { ImagePolicy, ImageRepository, ImageUpdateAutomation } from './image-types.js';

type Listener<T> = (kind: 'upsert' | 'delete', object: T) => void;

/**
 * One cluster-wide watch per kind (ImageRepository, ImagePolicy, ImageUpdateAutomation, and the
 * GitRepositories automations write to), shared by the scanner, the policy evaluator and the
 * automation; everyone reads the caches here instead of calling the API server.
 */
@Injectable()
export class ImageWatch implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ImageWatch');
  private repositoriesInformer?: ImageInformer<'ImageRepository'>;
  private policiesInformer?: ImageInformer<'ImagePolicy'>;
  private automationsInformer?: ImageInformer<'ImageUpdateAutomation'>;
  private gitInformer?: ReturnType<CapstanResources['informer']>;
  private readonly watches: KeptWatch<never>[] = [];
  private readonly repositoryListeners: Listener<ImageRepository>[] = [];
  private readonly policyListeners: Listener<ImagePolicy>[] = [];
  private readonly automationListeners: Listener<ImageUpdateAutomation>[] = [];

  constructor(
    private readonly images: ImageResources,
    private readonly capstan: CapstanResources,
    private readonly readiness: Readiness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('image-watches', () =>
      this.watches.every((w) => w.synced)
        ? Promise.resolve()
        : Promise.reject(new Error('watches not synced')),
    );
    this.repositoriesInformer = this.images.informer('ImageRepository');
    this.policiesInformer = this.images.informer('ImagePolicy');
    this.automationsInformer = this.images.informer('ImageUpdateAutomation');
    this.gitInformer = this.capstan.informer('GitRepository');
    const wire = <T>(
      informer: { on: (e: 'add' | 'update' | 'delete', f: (o: T) => void) => void },
      listeners: Listener<T>[],
    ) => {
      informer.on('add', (o) => listeners.forEach((l) => l('upsert', o)));
      informer.on('update', (o) => listeners.forEach((l) => l('upsert', o)));
      informer.on('delete', (o) => listeners.forEach((l) => l('delete', o)));
    };
    wire(this.repositoriesInformer, this.repositoryListeners);
    wire(this.policiesInformer, this.policyListeners);
    wire(this.automationsInformer, this.automationListeners);
    const keep = (informer: unknown, what: string) =>
      this.watches.push(new KeptWatch(informer as never, what, (m) => this.logger.warn(m)));
    keep(this.repositoriesInformer, 'ImageRepositories');
    keep(this.policiesInformer, 'ImagePolicies');
    keep(this.automationsInformer, 'ImageUpdateAutomations');
    keep(this.gitInformer, 'GitRepositories');
    await Promise.all(this.watches.map((w) => w.start()));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  /*
   * Listeners hear about every object: those already listed when they subscribe (other services'
   * bootstrap may run after the first list) and every change after.
   */
  onRepository(listener: Listener<ImageRepository>): void {
    this.repositoryListeners.push(listener);
    for (const o of this.repositories()) listener('upsert', o);
  }

  onPolicy(listener: Listener<ImagePolicy>): void {
    this.policyListeners.push(listener);
    for (const o of this.policies()) listener('upsert', o);
  }

  onAutomation(listener: Listener<ImageUpdateAutomation>): void {
    this.automationListeners.push(listener);
    for (const o of this.automations()) listener('upsert', o);
  }

  repositories(): readonly ImageRepository[] {
    return this.repositoriesInformer?.list() ?? [];
  }

  repository(namespace: string, name: string): ImageRepository | undefined {
    return this.repositoriesInformer?.get(name, namespace);
  }

  policies(): readonly ImagePolicy[] {
    return this.policiesInformer?.list() ?? [];
  }

  policy(namespace: string, name: string): ImagePolicy | undefined {
    return this.policiesInformer?.get(name, namespace);
  }

  automations(): readonly ImageUpdateAutomation[] {
    return this.automationsInformer?.list() ?? [];
  }

  automation(namespace: string, name: string): ImageUpdateAutomation | undefined {
    return this.automationsInformer?.get(name, namespace);
  }

  gitRepository(namespace: string, name: string): GitRepository | undefined {
    const repo = this.gitInformer?.get(name, namespace);
    return repo?.kind === 'GitRepository' ? repo : undefined;
  }
}
