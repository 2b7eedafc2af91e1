import { Module, type DynamicModule } from '@nestjs/common';
import { CLOCK, ObservabilityModule, systemClock } from '@capstan/platform';
import { busProviders, type Bus } from '@capstan/messaging';
import { GitMirror } from '@capstan/git';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { GIT_WATCHER_CONFIG, type GitWatcherConfig } from './config.js';
import { RepositoryPoller } from './repository-poller.js';
import { WatcherService } from './watcher.service.js';
import { SecretReader } from '@capstan/kube';
import { ReceiverResources } from './receiver/receiver-resources.js';
import { ReceiverService } from './receiver/receiver.service.js';
import { ReceiverController } from './receiver/receiver.controller.js';

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
        { provide: GitMirror, useValue: new GitMirror(config.GIT_CACHE_DIR) },
        { provide: CapstanResources, useValue: new CapstanResources(kc) },
        { provide: SecretReader, useValue: new SecretReader(kc) },
        { provide: ReceiverResources, useValue: new ReceiverResources(kc) },
        ...busProviders(bus),
        RepositoryPoller,
        WatcherService,
        ReceiverService,
      ],
    };
  }
}
