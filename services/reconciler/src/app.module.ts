import { Module, type DynamicModule } from '@nestjs/common';
import { CLOCK, ObservabilityModule, systemClock } from '@capstan/platform';
import { busProviders, type Bus } from '@capstan/messaging';
import { GitMirror } from '@capstan/git';
import {
  CapstanResources,
  SecretReader,
  HealthChecker,
  ObjectApi,
  Pruner,
  ServerSideApplier,
  createKubeConfig,
} from '@capstan/kube';
import { RECONCILER_CONFIG, type ReconcilerConfig } from './config.js';
import { SyncReconciler } from './sync-reconciler.js';
import { SyncBuilder } from './build/sync-builder.js';
import { HttpChartFetcher, KubeValuesSource } from '@capstan/render';
import { join } from 'node:path';
import { SyncWatchService } from './sync-watch.service.js';
import { ArtifactCache } from './artifact-cache.js';
import { SourceSettingsReader } from './source-settings.js';
import { RepositoryCache } from './repository-cache.js';
import { SyncCache } from './sync-cache.js';
import { SharedTreeMirror } from './shared-tree-mirror.js';
import { SyncLifecycle } from './sync-lifecycle.js';
import { CommitConsumer } from './commit.consumer.js';
import { driftProviders } from './drift/providers.js';
import { HealthWaiter } from './health/health-waiter.js';
import { HookRunner } from './hooks/hook-runner.js';

@Module({})
export class ReconcilerModule {
  static create(config: ReconcilerConfig, bus: Bus): DynamicModule {
    const kc = createKubeConfig(config.KUBECONFIG);
    return {
      module: ReconcilerModule,
      imports: [ObservabilityModule.forService('reconciler')],
      controllers: [CommitConsumer],
      providers: [
        { provide: RECONCILER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        { provide: GitMirror, useValue: new SharedTreeMirror(config.GIT_CACHE_DIR) },
        {
          provide: SyncBuilder,
          inject: [GitMirror],
          useFactory: (mirror: GitMirror) => {
            const api = ObjectApi.fromKubeConfig(kc);
            return new SyncBuilder(
              mirror,
              new KubeValuesSource(kc),
              new HttpChartFetcher(config.CHART_CACHE_DIR ?? join(config.GIT_CACHE_DIR, 'charts')),
              {
                helm: config.HELM_BIN,
                kustomize: config.KUSTOMIZE_BIN,
                isNamespaced: (apiVersion, kind) => api.isNamespaced(apiVersion, kind),
              },
            );
          },
        },
        { provide: CapstanResources, useValue: new CapstanResources(kc) },
        { provide: SecretReader, useValue: new SecretReader(kc) },
        RepositoryCache,
        SyncCache,
        SourceSettingsReader,
        { provide: ServerSideApplier, useValue: new ServerSideApplier(ObjectApi.fromKubeConfig(kc)) },
        { provide: Pruner, useValue: new Pruner(ObjectApi.fromKubeConfig(kc)) },
        { provide: HealthChecker, useValue: new HealthChecker(ObjectApi.fromKubeConfig(kc)) },
        { provide: ArtifactCache, inject: [GitMirror], useFactory: (m: GitMirror) => new ArtifactCache(m) },
        HealthWaiter,
        {
          provide: HookRunner,
          inject: [ServerSideApplier, HealthChecker],
          useFactory: (applier: ServerSideApplier, health: HealthChecker) =>
            new HookRunner(ObjectApi.fromKubeConfig(kc), applier, health),
        },
        SyncLifecycle,
        ...busProviders(bus),
        SyncReconciler,
        SyncWatchService,
        ...driftProviders(kc),
      ],
    };
  }
}
