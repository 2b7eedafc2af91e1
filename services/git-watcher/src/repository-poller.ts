import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { CLOCK, type Clock } from '@capstan/platform';
import { Bus } from '@capstan/messaging';
import { GitMirror } from '@capstan/git';
import { CapstanResources, type GitRepository } from '@capstan/kube';
import { readyConditions, formatRevision } from '@capstan/gitops-core';
import { commitObservedEvent, refOf } from './domain/commit-event.js';

export type PollOutcome =
  { kind: 'unchanged'; sha: string } | { kind: 'published'; sha: string; duplicate: boolean };

/** One poll of one GitRepository: fetch, resolve the ref, publish when the head moved, record status. */
@Injectable()
export class RepositoryPoller {
  private readonly polls: Counter<'result'>;
  private readonly fetchSeconds: Histogram;

  constructor(
    private readonly mirror: GitMirror,
    private readonly bus: Bus,
    private readonly resources: CapstanResources,
    @Inject(CLOCK) private readonly clock: Clock,
    registry: Registry,
  ) {
    this.polls = new Counter({
      name: 'capstan_git_polls_total',
      help: 'GitRepository polls by result',
      labelNames: ['result'],
      registers: [registry],
    });
    this.fetchSeconds = new Histogram({
      name: 'capstan_git_fetch_seconds',
      help: 'Time to fetch a repository',
      registers: [registry],
    });
  }

  async poll(repo: GitRepository): Promise<PollOutcome> {
    const { namespace, name } = repo.metadata;
    const ref = refOf(repo.spec);
    try {
      const stop = this.fetchSeconds.startTimer();
      await this.mirror.fetch(repo.spec.url);
      stop();
      const sha = await this.mirror.resolve(repo.spec.url, ref);
      if (repo.status?.artifact?.sha === sha && repo.status.observedGeneration === repo.metadata.generation) {
        this.polls.inc({ result: 'unchanged' });
        return { kind: 'unchanged', sha };
      }
      const commit = await this.mirror.commit(repo.spec.url, sha);
      const now = this.clock.now();
      const event = commitObservedEvent({ namespace, name, url: repo.spec.url, ref }, commit, now);
      // Publish before recording: if the status write fails the next poll publishes again,
      // and JetStream drops the duplicate by its id. The other order could lose the commit.
      const published = await this.bus.publish(event);
      const revision = formatRevision(ref, sha);
      await this.resources.patchStatus('GitRepository', namespace, name, {
        ...(repo.metadata.generation === undefined ? {} : { observedGeneration: repo.metadata.generation }),
        artifact: { revision, sha, observedAt: now.toISOString() },
        conditions: readyConditions(
          repo.status?.conditions ?? [],
          {
            ready: true,
            reason: 'Succeeded',
            message: `observed revision ${revision}`,
            stalled: false,
            ...gen(repo),
          },
          now,
        ),
      });
      this.polls.inc({ result: 'published' });
      return { kind: 'published', sha, duplicate: published.duplicate };
    } catch (error) {
      this.polls.inc({ result: 'failed' });
      await this.recordFailure(repo, error);
      throw error;
    }
  }

  private async recordFailure(repo: GitRepository, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.resources
      .patchStatus('GitRepository', repo.metadata.namespace, repo.metadata.name, {
        conditions: readyConditions(
          repo.status?.conditions ?? [],
          { ready: false, reason: 'GitOperationFailed', message, stalled: false, ...gen(repo) },
          this.clock.now(),
        ),
      })
      .catch(() => undefined); // the object may be gone; the failure is logged by the caller
  }
}

function gen(repo: GitRepository): { generation?: number } {
  return repo.metadata.generation === undefined ? {} : { generation: repo.metadata.generation };
}
