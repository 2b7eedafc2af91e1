import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { COMMIT_OBSERVED_V1, type CommitObservedV1 } from '@capstan/events';
import { SyncScheduler } from './sync-scheduler.js';
import { RepositoryCache } from '../sources/repository-cache.js';
import { gitSourceOf } from '../sources/git-source.js';

/** Event-driven side: a new commit reconciles every Sync that follows its repository. */
@Controller()
export class CommitConsumer {
  private readonly logger = new Logger('CommitConsumer');

  constructor(
    private readonly syncs: SyncScheduler,
    private readonly repositories: RepositoryCache,
  ) {}

  @EventPattern(COMMIT_OBSERVED_V1)
  async onCommit(@Payload() event: CommitObservedV1): Promise<void> {
    const { repository, sha } = event.data;
    if (await this.superseded(event)) {
      this.logger.log(
        `${repository.namespace}/${repository.name}@${sha.slice(0, 12)} superseded by a newer commit; skipped`,
      );
      return;
    }
    const source = gitSourceOf(
      {
        repository: `${repository.namespace}/${repository.name}`,
        url: repository.url,
        ref: event.data.ref,
        revision: event.data.revision,
      },
      event.data,
    );
    const trigger = {
      id: event.id,
      source,
      ...(event.data.verification ? { verification: event.data.verification } : {}),
    };
    const observedAt = Date.parse(event.data.observedAt);
    this.syncs.noteCommit(`${repository.namespace}/${repository.name}`, trigger, observedAt);
    const targets = await this.syncs.syncsFor(repository.namespace, repository.name);
    // Every Sync is attempted; one failing (retryable) makes the message redeliver, and the
    // others simply re-apply the same revision, which changes nothing.
    const results = await Promise.allSettled(
      targets.map((s) =>
        this.syncs.run(s.metadata.namespace, s.metadata.name, trigger, new Date(observedAt), observedAt),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }

  /**
   * Events can arrive late (redelivery, another replica). Reconciling is level-triggered: an
   * event older than the commit the repository now points at must not roll it back.
   */
  private async superseded(event: CommitObservedV1): Promise<boolean> {
    const repo = await this.repositories.get(event.data.repository.namespace, event.data.repository.name);
    if (!repo) return true; // the repository is gone: nothing follows it any more
    const artifact = repo.status?.artifact;
    return (
      !!artifact &&
      artifact.sha !== event.data.sha &&
      Date.parse(artifact.observedAt) > Date.parse(event.data.observedAt)
    );
  }
}
