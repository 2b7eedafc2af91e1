import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { CLOCK, ObservabilityModule, Readiness, systemClock } from '@capstan/platform';
import { busProviders, type Bus } from '@capstan/messaging';
import { GitMirror, SourcePolicy } from '@capstan/git';
import {
  ApiConnectionGuard,
  CapstanResources,
  createKubeConfig,
  startApiConnectionGuard,
} from '@capstan/kube';
import { GIT_WATCHER_CONFIG, type GitWatcherConfig } from './config.js';
import { RepositoryPoller } from './repository-poller.js';
import { WatcherService } from './watcher.service.js';
import { RepositoryOwnership } from './repository-ownership.js';
import { SecretReader } from '@capstan/kube';
import { ReceiverResources } from './receiver/receiver-resources.js';
import { ReceiverService } from './receiver/receiver.service.js';
import { ReceiverController } from './receiver/receiver.controller.js';
import { DeliveryLedger } from './receiver/delivery-ledger.js';

@Module({})
export class GitWatcherModule {
  /** Adapters are built outside and passed in, so tests and main wire the same module. */
  static create(config: GitWatcherConfig, bus: Bus): DynamicModule {
    const kc = createKubeConfig(config.KUBECONFIG);
    return {
      module: GitWatcherModule,
      imports: [ObservabilityModule.forService('git-watcher')],
      controllers: [ReceiverController],
      providers: [
        { provide: GIT_WATCHER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        {
          provide: GitMirror,
          // Its own cache is never a source: one tenant's URL must not read another's mirror.
          useValue: new GitMirror(config.GIT_CACHE_DIR, undefined, config.URL_REWRITES, {
            policy: new SourcePolicy({
              schemes: config.SOURCE_SCHEMES,
              protectedDirs: [config.GIT_CACHE_DIR],
            }),
          }),
        },
        { provide: CapstanResources, useValue: new CapstanResources(kc) },
        {
          // A silent API server connection is replaced, and /readyz says so meanwhile.
          provide: ApiConnectionGuard,
          inject: [Readiness],
          useFactory: (readiness: Readiness) =>
            startApiConnectionGuard(kc, config, readiness, (m) => new Logger('ApiConnection').warn(m)),
        },
        { provide: SecretReader, useValue: new SecretReader(kc) },
        { provide: ReceiverResources, useValue: new ReceiverResources(kc) },
        {
          provide: DeliveryLedger,
          useFactory: () =>
            DeliveryLedger.open(bus, config.EVENT_PREFIX, config.RECEIVER_REPLAY_WINDOW_SECONDS),
        },
        ...busProviders(bus),
        RepositoryPoller,
        { provide: RepositoryOwnership, useValue: new RepositoryOwnership(kc, config, bus) },
        WatcherService,
        ReceiverService,
      ],
    };
  }
}
