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
import { parseDuration } from '@capstan/gitops-core';
import { Readiness } from '@capstan/platform';
import { RECONCILER_CONFIG, type ReconcilerConfig } from './config.js';
import { KeyedQueue } from './keyed-queue.js';
import { SyncReconciler, TransientReconcileError, type ReconcileTrigger } from './sync-reconciler.js';
import { DependencyNotReadyError } from './sync-lifecycle.js';
import { ArtifactCache } from './artifact-cache.js';
import { SourceSettingsReader } from './source-settings.js';
import { RepositoryCache } from './repository-cache.js';
import { SyncCache } from './sync-cache.js';

export const REQUESTED_AT = 'capstan.dev/reconcile-requested-at';
const DEFAULT_INTERVAL = '5m';

/**
 * Level-triggered side of the reconciler: one watch over all Syncs. A new Sync, a spec change,
 * a reconcile request or the Sync's interval reconciles it against its source's current artifact.
 * Commits arriving as events go through the same queue (see CommitConsumer).
 */
@Injectable()
export class SyncWatchService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SyncWatch');
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
  ) {
    this.queue = new KeyedQueue(config.RECONCILE_CONCURRENCY);
    this.dependencyRetryMs = parseDuration(config.DEPENDENCY_RETRY_INTERVAL);
  }

  private readonly dependencyRetryMs: number;
  /** Syncs whose last run waited on a dependency: their next run comes soon, not at the interval. */
  private readonly blocked = new Set<string>();
  /** Runs queued but not started yet, by Sync, with the commit they will reconcile. */
  private readonly waiting = new Map<string, { sha: string; done: Promise<void> }>();
  /** The latest run started per Sync: its commit, when it started, and its end. */
  private readonly started = new Map<string, { sha: string; at: number; done: Promise<void> }>();

  onModuleInit(): void {
    const informer = this.syncs.informer;
    informer.on('add', (s) => this.changed(s));
    informer.on('update', (s) => this.changed(s));
    informer.on('delete', (s) => this.forget(s));
  }

  async onApplicationBootstrap(): Promise<void> {
    const watch = this.syncs.watch;
    this.readiness.register('sync-watch', () =>
      watch.synced ? Promise.resolve() : Promise.reject(new Error('watch not synced')),
    );
    // Commit events wait on this: the cache must hold every Sync before we say who follows a repo.
    this.synced = this.syncs.start();
    await this.synced;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
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
  run(namespace: string, name: string, trigger: ReconcileTrigger, observedAt?: Date): Promise<void> {
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
      this.started.set(key, { sha, at: Date.now(), done });
      let sync: Sync;
      try {
        sync = await this.resources.get('Sync', namespace, name);
      } catch (e) {
        if (isNotFound(e)) return; // deleted while queued
        throw e;
      }
      if (sync.spec.suspend) return;
      try {
        await this.reconciler.reconcile(sync, trigger, slot);
      } catch (e) {
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
    const key = `${sync.metadata.namespace}/${sync.metadata.name}`;
    // Status writes also arrive as updates; only a new generation or an explicit request matters.
    const marker = `${sync.metadata.generation ?? 0}|${sync.metadata.annotations?.[REQUESTED_AT] ?? ''}`;
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
    // A run of the same commit that starts from now on does what this one would.
    const since = new Date();
    let interval = 300_000;
    try {
      interval = parseDuration(sync.spec.interval ?? DEFAULT_INTERVAL);
      const repo = await this.source(sync);
      const artifact = repo?.status?.artifact;
      // No artifact yet: the git-watcher's commit event will trigger us.
      if (repo && artifact) {
        const source = await this.gitSource(repo, artifact.sha, artifact.revision);
        const trigger = {
          id: `sync:${sync.metadata.uid ?? key(sync)}:g${sync.metadata.generation ?? 0}:${artifact.sha}:${Date.now()}`,
          source,
        };
        await this.run(namespace, name, trigger, since);
      }
    } catch (e) {
      const transient = e instanceof TransientReconcileError;
      this.logger.warn(
        `${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}${transient ? ' (will retry)' : ''}`,
      );
      if (transient) interval = Math.min(interval, 5_000);
    }
    if (this.blocked.delete(`${namespace}/${name}`)) interval = Math.min(interval, this.dependencyRetryMs);
    const latest = this.syncs.informer.get(name, namespace);
    if (latest && !this.stopped) this.schedule(latest, interval);
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
    return {
      repository: `${repo.metadata.namespace}/${repo.metadata.name}`,
      url: repo.spec.url,
      ref: revision.split('@')[0] ?? '',
      revision,
      sha,
      parents: commit.parents,
      message: commit.message,
      author: commit.author,
      committer: commit.committer,
    };
  }
}

function key(sync: Sync): string {
  return `${sync.metadata.namespace}/${sync.metadata.name}`;
}
