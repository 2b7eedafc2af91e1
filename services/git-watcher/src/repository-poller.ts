import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { CLOCK, type Clock } from '@capstan/platform';
import { Bus } from '@capstan/messaging';
import { GitMirror, credentialsFromSecret, keysFromSecret, type CommitVerification } from '@capstan/git';
import { CapstanResources, type GitRepository } from '@capstan/kube';
import {
  followsHead,
  readyConditions,
  removeCondition,
  setCondition,
  withoutCredentials,
  type Condition,
} from '@capstan/gitops-core';
import { commitObservedEvent, refOf, revisionOf } from './domain/commit-event.js';
import { failureReason } from './domain/failure-reason.js';
import { verificationMessage, verifyOf } from './domain/source-spec.js';
import { RepositoryOwnership } from './repository-ownership.js';
import { SecretReader } from '@capstan/kube';

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
    private readonly secrets: SecretReader,
    @Inject(CLOCK) private readonly clock: Clock,
    registry: Registry,
    private readonly ownership: RepositoryOwnership,
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
      const credentials = repo.spec.secretRef
        ? credentialsFromSecret(
            repo.spec.secretRef.name,
            await this.secrets.read(namespace, repo.spec.secretRef.name),
          )
        : undefined;
      const stop = this.fetchSeconds.startTimer();
      await this.mirror.fetch(repo.spec.url, {
        ...(credentials ? { credentials } : {}),
        // No ref: the remote's default branch as it is now, not as it was when the mirror was cloned.
        ...(followsHead(ref) ? { followHead: true } : {}),
      });
      stop();
      // Chaos tests stop here: fetched, not yet published.
      this.ownership.hooks.step('git-watcher.fetched', `${repo.metadata.namespace}/${repo.metadata.name}`);
      const resolved = await this.mirror.resolveRef(repo.spec.url, ref);
      const sha = resolved.sha;
      const ready = repo.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (
        ready &&
        repo.status?.artifact?.sha === sha &&
        // The same commit under a new default branch name is a new revision to record.
        repo.status.artifact.revision === revisionOf(ref, sha, resolved.name) &&
        repo.status.observedGeneration === repo.metadata.generation
      ) {
        this.polls.inc({ result: 'unchanged' });
        return { kind: 'unchanged', sha };
      }
      const verification = await this.verify(repo, sha);
      const commit = await this.mirror.commit(repo.spec.url, sha);
      const now = this.clock.now();
      const event = commitObservedEvent({ namespace, name, url: repo.spec.url, ref }, commit, now, {
        ...(resolved.name === undefined ? {} : { resolvedName: resolved.name }),
        ...(verification ? { verification } : {}),
      });
      // Publish before recording: if the status write fails the next poll publishes again,
      // and JetStream drops the duplicate by its id. The other order could lose the commit.
      const published = await this.bus.publish(event);
      const revision = revisionOf(ref, sha, resolved.name);
      let conditions = readyConditions(
        repo.status?.conditions ?? [],
        {
          ready: true,
          reason: 'Succeeded',
          message: `observed revision ${revision}`,
          stalled: false,
          ...gen(repo),
        },
        now,
      );
      conditions = verifiedCondition(conditions, verification, sha, repo, now);
      // null removes a stale one under merge-patch when spec.verify was dropped.
      const artifact = { revision, sha, observedAt: now.toISOString(), verification: verification ?? null };
      await this.resources.patchStatus('GitRepository', namespace, name, {
        ...(repo.metadata.generation === undefined ? {} : { observedGeneration: repo.metadata.generation }),
        artifact,
        conditions,
      });
      this.polls.inc({ result: 'published' });
      return { kind: 'published', sha, duplicate: published.duplicate };
    } catch (error) {
      this.polls.inc({ result: 'failed' });
      await this.recordFailure(repo, error);
      throw error;
    }
  }

  /**
   * Checks HEAD's signature when `spec.verify` asks for it. The verdict travels with the event and
   * shows as SourceVerified; whether an unverified commit may deploy is each Sync's call.
   */
  private async verify(repo: GitRepository, sha: string): Promise<CommitVerification | undefined> {
    const verify = verifyOf(repo);
    if (!verify) return undefined;
    const secret = verify.secretRef.name;
    const keys = keysFromSecret(secret, await this.secrets.read(repo.metadata.namespace, secret));
    return this.mirror.verifyCommit(repo.spec.url, sha, keys);
  }

  private async recordFailure(repo: GitRepository, error: unknown): Promise<void> {
    const message = withoutCredentials(error instanceof Error ? error.message : String(error));
    const reason = failureReason(error);
    await this.resources
      .patchStatus('GitRepository', repo.metadata.namespace, repo.metadata.name, {
        conditions: readyConditions(
          repo.status?.conditions ?? [],
          { ready: false, reason, message, stalled: false, ...gen(repo) },
          this.clock.now(),
        ),
      })
      .catch(() => undefined); // the object may be gone; the failure is logged by the caller
  }
}

function gen(repo: GitRepository): { generation?: number } {
  return repo.metadata.generation === undefined ? {} : { generation: repo.metadata.generation };
}

function verifiedCondition(
  conditions: Condition[],
  verification: CommitVerification | undefined,
  sha: string,
  repo: GitRepository,
  now: Date,
): Condition[] {
  if (!verification) return removeCondition(conditions, 'SourceVerified');
  const ok = verification.status === 'verified';
  return setCondition(
    conditions,
    {
      type: 'SourceVerified',
      status: ok ? 'True' : 'False',
      reason: ok ? 'Succeeded' : 'VerificationFailed',
      message: verificationMessage(verification, sha),
      ...(repo.metadata.generation === undefined ? {} : { observedGeneration: repo.metadata.generation }),
    },
    now,
  );
}
