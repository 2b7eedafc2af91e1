import { Module, type DynamicModule } from '@nestjs/common';
import { CLOCK, ObservabilityModule, Readiness, systemClock } from '@capstan/platform';
import { Bus } from '@capstan/messaging';
import { GitMirror } from '@capstan/git';
import { CapstanResources, ObjectApi, ServerSideApplier, createKubeConfig } from '@capstan/kube';
import { RECONCILER_CONFIG, type ReconcilerConfig } from './config.js';
import { SyncReconciler } from './sync-reconciler.js';
import { SyncWatchService } from './sync-watch.service.js';
import { CommitConsumer } from './commit.consumer.js';

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
        { provide: Bus, useValue: bus },
        { provide: CLOCK, useValue: systemClock },
        { provide: GitMirror, useValue: new GitMirror(config.GIT_CACHE_DIR) },
        { provide: CapstanResources, useValue: new CapstanResources(kc) },
        { provide: ServerSideApplier, useValue: new ServerSideApplier(ObjectApi.fromKubeConfig(kc)) },
        {
          provide: 'bus-readiness',
          inject: [Readiness],
          useFactory: (r: Readiness) => r.register('nats', () => bus.healthCheck()),
        },
        SyncReconciler,
        SyncWatchService,
      ],
    };
  }
}
