import { Logger } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { KeyedOwnership } from '@capstan/kube';
import type { Bus } from '@capstan/messaging';
import { StepHooks } from '@capstan/platform';
import type { GitWatcherConfig } from './config.js';

interface PollRequest {
  namespace: string;
  name: string;
}

/**
 * Which GitRepositories this git-watcher replica polls: those of the shards it holds
 * (ShardLeases, as the reconciler splits Syncs). A webhook may reach any replica; one that does
 * not own the repository passes the poll request to every replica over core NATS
 * (`<prefix>.control.git-watcher.poll`, not a stream: a request lost with a dying owner is
 * covered by the new owner, which polls every repository it gains at once), and the owner polls.
 */
export class RepositoryOwnership extends KeyedOwnership {
  readonly hooks: StepHooks;
  private readonly subject: string;

  constructor(
    kc: KubeConfig,
    config: GitWatcherConfig,
    private readonly bus: Bus,
  ) {
    const logger = new Logger('RepositoryOwnership');
    super(kc, 'git-watcher', config, { log: (m) => logger.log(m), warn: (m) => logger.warn(m) });
    this.hooks = new StepHooks(config);
    this.subject = `${config.EVENT_PREFIX}.control.git-watcher.poll`;
  }

  /** Asks the replica that owns the repository to poll it now. */
  forward(namespace: string, name: string): void {
    this.bus.nc.publish(this.subject, JSON.stringify({ namespace, name } satisfies PollRequest));
  }

  /** Hands poll requests for repositories this replica owns to `poll`. */
  listen(poll: (namespace: string, name: string) => void): { unsubscribe(): void } {
    return this.bus.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const req = msg.json<PollRequest>();
          if (typeof req.namespace === 'string' && typeof req.name === 'string')
            if (this.owns(`${req.namespace}/${req.name}`)) poll(req.namespace, req.name);
        } catch {
          // Not a poll request: nothing to do.
        }
      },
    });
  }
}
