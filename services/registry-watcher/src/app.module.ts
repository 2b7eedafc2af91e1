import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { CLOCK, ObservabilityModule, Readiness, systemClock } from '@capstan/platform';
import { busProviders, type Bus } from '@capstan/messaging';
import {
  ApiConnectionGuard,
  CapstanResources,
  createKubeConfig,
  SecretReader,
  startApiConnectionGuard,
} from '@capstan/kube';
import { REGISTRY_WATCHER_CONFIG, type RegistryWatcherConfig } from './config.js';
import { RegistryWatcherMetrics } from './metrics.js';
import { ImageResources } from './resources/image-resources.js';
import { ImageWatch } from './resources/image-watch.service.js';
import { RegistryAccess } from './scanning/registry-access.js';
import { RepositoryLogin } from './scanning/repository-login.js';
import { RepositoryScanner } from './scanning/repository-scanner.js';
import { ScanScheduler } from './scanning/scan-scheduler.js';
import { ScanOwnership } from './scanning/scan-ownership.js';
import { SeenStore } from './scanning/seen-store.js';
import { Candidates } from './policies/candidates.js';
import { PolicyEvaluator } from './policies/policy-evaluator.js';
import { NotificationService } from './notifications/notification.service.js';
import { NotificationsController } from './notifications/notifications.controller.js';
import { AutomationRunner } from './automation/automation-runner.js';
import { AutomationService } from './automation/automation.service.js';
import { CanaryFailures } from './automation/canary-failures.js';

/**
 * Scans ImageRepositories and receives registry notifications (publishing `image.pushed`),
 * evaluates ImagePolicies, and runs ImageUpdateAutomations that commit new images to Git.
 * Adapters are built outside and passed in, so tests and main wire the same module.
 */
@Module({})
export class RegistryWatcherModule {
  static create(config: RegistryWatcherConfig, bus: Bus, store: SeenStore): DynamicModule {
    const kc = createKubeConfig(config.KUBECONFIG);
    return {
      module: RegistryWatcherModule,
      imports: [ObservabilityModule.forService('registry-watcher')],
      controllers: [NotificationsController],
      providers: [
        {
          // A silent API server connection is replaced, and /readyz says so meanwhile.
          provide: ApiConnectionGuard,
          inject: [Readiness],
          useFactory: (readiness: Readiness) =>
            startApiConnectionGuard(kc, config, readiness, (m) => new Logger('ApiConnection').warn(m)),
        },
        { provide: REGISTRY_WATCHER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        { provide: SeenStore, useValue: store },
        { provide: ImageResources, useValue: new ImageResources(kc) },
        { provide: CapstanResources, useValue: new CapstanResources(kc) },
        { provide: SecretReader, useValue: new SecretReader(kc) },
        {
          provide: RegistryWatcherMetrics,
          useFactory: (r: Registry) => new RegistryWatcherMetrics(r),
          inject: [Registry],
        },
        {
          provide: RegistryAccess,
          useFactory: (m: RegistryWatcherMetrics) =>
            new RegistryAccess(m, {
              ratePerSecond: config.REGISTRY_RPS,
              burst: config.REGISTRY_BURST,
              pageSize: config.REGISTRY_PAGE_SIZE,
            }),
          inject: [RegistryWatcherMetrics],
        },
        { provide: CanaryFailures, useValue: new CanaryFailures() },
        ...busProviders(bus),
        { provide: ScanOwnership, useValue: new ScanOwnership(kc, config, bus) },
        ImageWatch,
        RepositoryLogin,
        RepositoryScanner,
        ScanScheduler,
        Candidates,
        PolicyEvaluator,
        NotificationService,
        AutomationRunner,
        AutomationService,
      ],
    };
  }
}
