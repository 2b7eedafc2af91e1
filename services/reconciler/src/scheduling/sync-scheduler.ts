import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleInit,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { GitSource } from '@capstan/events';
import { CapstanResources, isNotFound, type GitRepository, type Sync } from '@capstan/kube';
import { RECONCILE_REQUESTED_AT, parseDuration } from '@capstan/gitops-core';
import { describeError } from '@capstan/messaging';
import { CLOCK, Readiness, type Clock } from '@capstan/platform';
import { RECONCILER_CONFIG, type ReconcilerConfig } from '../config.js';
import { KeyedQueue } from './keyed-queue.js';
import {
  SyncReconciler,
  TransientReconcileError,
  type ReconcileTrigger,
} from '../reconcile/sync-reconciler.js';
import { DependencyNotReadyError } from '../reconcile/dependency-gate.js';
import { ArtifactCache } from '../sources/artifact-cache.js';
import { SourceSettingsReader } from '../sources/source-settings.js';
import { RepositoryCache } from '../sources/repository-cache.js';
import { gitSourceOf, originOf } from '../sources/git-source.js';
import { SyncCache } from '../cluster/sync-cache.js';
import { retryDelay } from '../domain/retry-delay.js';
import { OwnershipLostError, SyncOwnership } from './sync-ownership.js';
import { LatestCommits } from './latest-commits.js';

const DEFAULT_INTERVAL = '5m';

/**
 * When each Sync reconciles, and never two runs of one Sync at once. Level-triggered from the
 * one watch over all Syncs (a new Sync, a spec change, a reconcile request, the Sync's interval,
 * a retry after a retryable failure, with growing backoff) against its source's current
 * artifact; commits arriving as events go through the same queue (see CommitConsumer).
 * Only the Syncs this replica owns (SyncOwnership): a shard gained is reconciled at once, a
 * shard lost forgotten.
 */
@Injectable()
export class SyncScheduler implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SyncScheduler');
  private readonly queue: KeyedQueue;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly seen = new Map<string, string>();
  private synced?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly resources: CapstanResources,
    private readonly syncs: SyncCache,
    private readonly reconciler: SyncReconciler,
    private readonly artifacts: ArtifactCache,
    private readonly sources: SourceSettingsReader,
    private readonly readiness: Readiness,
    @Inject(RECONCILER_CONFIG) config: ReconcilerConfig,
    private readonly repositories: RepositoryCache,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly ownership: SyncOwnership,
  ) {
    this.queue = new KeyedQueue(config.RECONCILE_CONCURRENCY);
    this.dependencyRetryMs = parseDuration(config.DEPENDENCY_RETRY_INTERVAL);
  }

  private readonly dependencyRetryMs: number;
  /** Syncs whose last run waited on a dependency: their next run comes soon, not at the interval. */
  private readonly blocked = new Set<string>();
  /** Retryable failures in a row, per Sync: the next retry waits longer each time. */
  private readonly failures = new Map<string, number>();
  /** Syncs whose last run asked for an early run (a HelmRelease's retry is due), and after how long. */
  private readonly retryAfter = new Map<string, number>();
  /** Runs queued but not started yet, by Sync, with the commit they will reconcile. */
  private readonly waiting = new Map<string, { sha: string; done: Promise<void> }>();
  /** The newest commit seen per repository (see LatestCommits). */
  private readonly latest = new LatestCommits();
  /** Per Sync, the commit of the last run started and when the git-watcher observed it. */
  private readonly lastCommit = new Map<string, { sha: string; observedAt: number }>();
  /** The latest run started per Sync: its commit, when it started, and its end. */
  private readonly started = new Map<string, { sha: string; at: number; done: Promise<void> }>();

  onModuleInit(): void {
    const informer = this.syncs.informer;
    informer.on('add', (s) => this.changed(s));
    informer.on('update', (s) => this.changed(s));
    informer.on('delete', (s) => this.forget(s));
    this.ownership.onGained((shards) => {
      const gained = new Set(shards);
      for (const s of informer.list())
        if (gained.has(this.ownership.shardOf(s.metadata.namespace, s.metadata.name))) {
          this.seen.delete(key(s));
          this.changed(s);
        }
    });
    this.ownership.onLost((shards) => {
      const lost = new Set(shards);
      for (const s of informer.list())
        if (lost.has(this.ownership.shardOf(s.metadata.namespace, s.metadata.name))) this.forget(s);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const watch = this.syncs.watch;
    this.readiness.register('sync-watch', () =>
      watch.synced ? Promise.resolve() : Promise.reject(new Error('watch not synced')),
    );
    // Commit events wait on this: the cache must hold every Sync before we say who follows a repo.
    this.synced = this.syncs.start();
    await this.synced;
    // Shards are taken once every Sync is listed, so a shard gained finds all of its Syncs.
    await this.ownership.leases.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    // Hands every shard over at once instead of leaving the others to wait for the lease to lapse.
    await this.ownership.leases.stop();
  }

  /** A commit event of a repository (whoever owns its Syncs): the newest is kept for gains. */
  noteCommit(repository: string, trigger: ReconcileTrigger, observedAt: number): void {
    this.latest.note(repository, trigger, observedAt);
  }

  /** Syncs that follow a repository, read from the watch cache. */
  async syncsFor(repoNamespace: string, repoName: string): Promise<Sync[]> {
    await this.synced;
    return this.syncs.informer
      .list()
      .filter(
        (s) =>
          s.spec.sourceRef.name === repoName &&
          (s.spec.sourceRef.namespace ?? s.metadata.namespace) === repoNamespace,
      );
  }

  /**
   * Reconciles one Sync (fresh from the API server) in the per-Sync queue. `observedAt` is when
   * the cause was seen (a commit event's commit, the watch's change or timer): a run of the same
   * commit that started since then already does what this one asks (at start-up the watch and
   * the commit event both ask, for every Sync).
   */
  run(
    namespace: string,
    name: string,
    trigger: ReconcileTrigger,
    observedAt?: Date,
    /** When the git-watcher observed the trigger's commit: an older one never follows a newer. */
    commitObservedAt?: number,
  ): Promise<void> {
    const key = `${namespace}/${name}`;
    const sha = trigger.source.sha;
    // A run still waiting in the queue reads the Sync afresh when it starts, so a second request
    // for the same commit joins it instead of reconciling twice.
    const waiting = this.waiting.get(key);
    if (waiting && waiting.sha === sha) return waiting.done;
    if (observedAt) {
      const started = this.started.get(key);
      if (started && started.sha === sha && started.at >= observedAt.getTime())
        return started.done.catch(() => this.run(namespace, name, trigger));
    }
    const done = this.queue.run(key, async (slot) => {
      if (this.waiting.get(key)?.done === done) this.waiting.delete(key);
      this.started.set(key, { sha, at: this.clock.now().getTime(), done });
      let sync: Sync;
      try {
        sync = await this.resources.get('Sync', namespace, name);
      } catch (e) {
        if (isNotFound(e)) return; // deleted while queued
        throw e;
      }
      if (sync.spec.suspend) return;
      // Another replica's Sync (a commit event reaches every replica), or one handed over while queued.
      if (!this.ownership.owns(namespace, name)) return;
      // A run of an older commit queued behind a newer one (an artifact read from a cache that
      // lagged the commit event) must not roll the Sync back.
      const last = this.lastCommit.get(key);
      if (commitObservedAt !== undefined && last && last.sha !== sha && last.observedAt > commitObservedAt) {
        this.logger.log(
          `${key}: ${sha.slice(0, 12)} is older than ${last.sha.slice(0, 12)}, already applied; skipped`,
        );
        return;
      }
      if (commitObservedAt !== undefined) this.lastCommit.set(key, { sha, observedAt: commitObservedAt });
      try {
        this.retryAfter.delete(key);
        const outcome = await this.ownership.during(namespace, name, () =>
          this.reconciler.reconcile(sync, trigger, slot),
        );
        // A HelmRelease that failed for a reason worth retrying (its chart repository did not
        // answer) is retried on its own backoff, kept per release (ReleaseRetries): the Sync
        // runs again when the first is due, and its own backoff is left alone.
        const due = this.reconciler.nextReleaseAttempt(outcome);
        if (due !== undefined) {
          const delay = Math.max(0, due - this.clock.now().getTime());
          this.retryAfter.set(key, delay);
          this.schedule(sync, delay);
        }
      } catch (e) {
        if (e instanceof OwnershipLostError) {
          this.logger.log(e.message);
          return;
        }
        // Not a failure of this trigger: the watch tries again soon, whatever caused the run.
        if (!(e instanceof DependencyNotReadyError)) throw e;
        this.logger.log(`${namespace}/${name}: ${e.message}; retrying in ${this.dependencyRetryMs} ms`);
        this.blocked.add(`${namespace}/${name}`);
        this.schedule(sync, this.dependencyRetryMs);
      }
    });
    this.waiting.set(key, { sha, done });
    return done;
  }

  private changed(sync: Sync): void {
    if (!this.ownership.owns(sync.metadata.namespace, sync.metadata.name)) return;
    const key = `${sync.metadata.namespace}/${sync.metadata.name}`;
    // Status writes also arrive as updates; only a new generation or an explicit request matters.
    const marker = `${sync.metadata.generation ?? 0}|${sync.metadata.annotations?.[RECONCILE_REQUESTED_AT] ?? ''}`;
    if (this.seen.get(key) === marker) return;
    this.seen.set(key, marker);
    this.schedule(sync, 0);
  }

  private forget(sync: Sync): void {
    const key = `${sync.metadata.namespace}/${sync.metadata.name}`;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.seen.delete(key);
    this.started.delete(key);
    this.failures.delete(key);
    this.retryAfter.delete(key);
  }

  private schedule(sync: Sync, delayMs: number): void {
    const key = `${sync.metadata.namespace}/${sync.metadata.name}`;
    clearTimeout(this.timers.get(key));
    if (this.stopped) return;
    this.timers.set(
      key,
      setTimeout(() => void this.fromArtifact(sync), delayMs),
    );
  }

  private async fromArtifact(sync: Sync): Promise<void> {
    const { namespace, name } = sync.metadata;
    if (!this.ownership.owns(namespace, name)) return; // its new owner schedules it
    // A run of the same commit that starts from now on does what this one would.
    const since = this.clock.now();
    let interval = 300_000;
    try {
      interval = parseDuration(sync.spec.interval ?? DEFAULT_INTERVAL);
      const repo = await this.source(sync);
      const artifact = repo?.status?.artifact;
      if (repo) {
        const artifactAt = artifact ? Date.parse(artifact.observedAt) : -Infinity;
        // A commit event newer than the artifact we read (its status not written yet, or our
        // cache behind): that commit is the one to reconcile. Also when no artifact shows yet:
        // the event may have been handled before this Sync reached the watch cache, so it did
        // not name this Sync, and waiting for the next commit would leave the Sync unapplied.
        const newer = this.latest.newerThan(`${repo.metadata.namespace}/${repo.metadata.name}`, artifactAt);
        if (newer) await this.run(namespace, name, newer.trigger, since, newer.observedAt);
        // No artifact and no commit event yet: the git-watcher's first commit event triggers us.
        else if (artifact) {
          const source = await this.gitSource(repo, artifact.sha, artifact.revision);
          const trigger = {
            id: `sync:${sync.metadata.uid ?? key(sync)}:g${sync.metadata.generation ?? 0}:${artifact.sha}:${since.getTime()}`,
            source,
          };
          await this.run(namespace, name, trigger, since, artifactAt);
        }
      }
      // The Sync itself succeeded: its own backoff starts over; a release may still be due sooner.
      this.failures.delete(key(sync));
      const retry = this.retryAfter.get(key(sync));
      if (retry !== undefined) interval = Math.min(interval, retry);
    } catch (e) {
      const transient = e instanceof TransientReconcileError;
      if (transient) {
        const failures = (this.failures.get(key(sync)) ?? 0) + 1;
        this.failures.set(key(sync), failures);
        interval = retryDelay(failures, interval);
      }
      this.logger.warn(
        `${namespace}/${name}: ${describeError(e)}${transient ? ` (retrying in ${Math.round(interval / 1000)} s)` : ''}`,
      );
    }
    if (this.blocked.delete(`${namespace}/${name}`)) interval = Math.min(interval, this.dependencyRetryMs);
    const latest = this.syncs.informer.get(name, namespace);
    if (latest && !this.stopped && this.ownership.owns(namespace, name)) this.schedule(latest, interval);
  }

  private source(sync: Sync): Promise<GitRepository | undefined> {
    return this.repositories.get(
      sync.spec.sourceRef.namespace ?? sync.metadata.namespace,
      sync.spec.sourceRef.name,
    );
  }

  private async gitSource(repo: GitRepository, sha: string, revision: string): Promise<GitSource> {
    // Once per commit for all Syncs of the repository, not once per Sync.
    const { fetch } = await this.sources.forRepository(repo);
    const commit = await this.artifacts.commit(repo.spec.url, sha, fetch);
    return gitSourceOf(originOf(repo, revision), commit);
  }
}

function key(sync: Sync): string {
  return `${sync.metadata.namespace}/${sync.metadata.name}`;
}
