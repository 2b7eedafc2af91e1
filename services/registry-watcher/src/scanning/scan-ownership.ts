import { Logger } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { KeyedOwnership } from '@capstan/kube';
import type { Bus } from '@capstan/messaging';
import { StepHooks } from '@capstan/platform';
import type { RegistryWatcherConfig } from '../config.js';

/**
 * Which ImageRepositories this registry-watcher replica scans: those of the shards it holds
 * (ShardLeases, keyed `namespace/name`). A registry notification may reach any replica: it
 * publishes *image pushed* itself (the event id makes that once) and asks every replica, over
 * core NATS (`<prefix>.control.registry-watcher.scan`), to scan the image's repositories; each
 * scans the ones it owns. A request lost with a dying owner is covered by the new owner, which
 * scans every repository it gains at once.
 */
export class ScanOwnership extends KeyedOwnership {
  readonly hooks: StepHooks;
  private readonly subject: string;

  constructor(
    kc: KubeConfig,
    config: RegistryWatcherConfig,
    private readonly bus: Bus,
  ) {
    const logger = new Logger('ScanOwnership');
    super(kc, 'registry-watcher', config, { log: (m) => logger.log(m), warn: (m) => logger.warn(m) });
    this.hooks = new StepHooks(config);
    this.subject = `${config.EVENT_PREFIX}.control.registry-watcher.scan`;
  }

  /** Asks every replica to scan the ImageRepositories of `registry/repository` it owns. */
  forward(repository: string): void {
    this.bus.nc.publish(this.subject, JSON.stringify({ repository }));
  }

  listen(scan: (repository: string) => void): { unsubscribe(): void } {
    return this.bus.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const req = msg.json<{ repository?: unknown }>();
          if (typeof req.repository === 'string') scan(req.repository);
        } catch {
          // Not a scan request: nothing to do.
        }
      },
    });
  }
}
