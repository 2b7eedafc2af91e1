import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { backoffDelay, parseDuration, withoutCredentials } from '@capstan/gitops-core';
import { CapstanResources, KeptWatch, type GitRepository } from '@capstan/kube';
import { Readiness } from '@capstan/platform';
import { GIT_WATCHER_CONFIG, type GitWatcherConfig } from './config.js';
import { RepositoryPoller } from './repository-poller.js';
import { RepositoryOwnership } from './repository-ownership.js';

/** Annotation that asks for a poll now (`capstan reconcile source/<name>` sets it), like Flux's requestedAt. */
export const REQUESTED_AT = 'capstan.dev/reconcile-requested-at';

interface Schedule {
  timer?: NodeJS.Timeout;
  running: boolean;
  failures: number;
  generation?: number;
  requestedAt?: string;
}

/**
 * Keeps one timer per GitRepository from a single cluster-wide watch. Polls for one repository
 * never overlap; a failure backs off from RETRY_BASE_MS up to the repository's interval. Only the
 * repositories this replica owns are polled (RepositoryOwnership): a shard gained is polled at
 * once, a shard lost stops its timers.
 */
@Injectable()
export class WatcherService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GitWatcher');
  private readonly schedules = new Map<string, Schedule>();
  private readonly repos = new Map<string, GitRepository>();
  private watch?: KeptWatch<GitRepository>;
  private stopped = false;
  private requests?: { unsubscribe(): void };

  constructor(
    private readonly resources: CapstanResources,
    private readonly poller: RepositoryPoller,
    private readonly readiness: Readiness,
    @Inject(GIT_WATCHER_CONFIG) private readonly config: GitWatcherConfig,
    private readonly ownership: RepositoryOwnership,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('gitrepository-watch', () =>
      this.watch?.synced ? Promise.resolve() : Promise.reject(new Error('watch not synced')),
    );
    const informer = this.resources.informer('GitRepository');
    informer.on('add', (r) => this.upsert(r));
    informer.on('update', (r) => this.upsert(r));
    informer.on('delete', (r) => this.remove(r));
    this.watch = new KeptWatch(informer, 'GitRepositories', (m) => this.logger.warn(m));
    this.ownership.onGained((shards) => {
      for (const key of this.ownership.within(shards, this.repos.keys())) this.arm(key, 0);
    });
    this.ownership.onLost((shards) => {
      for (const key of this.ownership.within(shards, this.repos.keys()))
        clearTimeout(this.schedules.get(key)?.timer);
    });
    this.requests = this.ownership.listen((ns, name) => this.arm(`${ns}/${name}`, 0));
    await this.watch.start();
    await this.watch.firstListed;
    // Shards are taken once every repository is listed, so a shard gained finds all of its own.
    await this.ownership.leases.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const s of this.schedules.values()) clearTimeout(s.timer);
    this.requests?.unsubscribe();
    await this.ownership.leases.stop();
    await this.watch?.stop();
  }

  private upsert(repo: GitRepository): void {
    const key = keyOf(repo);
    this.repos.set(key, repo);
    const schedule = this.schedules.get(key) ?? { running: false, failures: 0 };
    this.schedules.set(key, schedule);
    if (repo.spec.suspend) {
      clearTimeout(schedule.timer);
      return;
    }
    const requestedAt = repo.metadata.annotations?.[REQUESTED_AT];
    const changed = schedule.generation !== repo.metadata.generation || schedule.requestedAt !== requestedAt;
    schedule.generation = repo.metadata.generation;
    schedule.requestedAt = requestedAt;
    if (changed) this.arm(key, 0);
  }

  /**
   * Polls a repository now (a push webhook arrived), here or on the replica that owns it. False
   * when the repository is unknown or suspended. A poll already running re-arms itself, so a
   * push that lands mid-poll is still seen.
   */
  requestPoll(namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`;
    const repo = this.repos.get(key);
    if (!repo || repo.spec.suspend || !this.schedules.has(key)) return false;
    if (this.ownership.owns(key)) this.arm(key, 0);
    else this.ownership.forward(namespace, name);
    return true;
  }

  private remove(repo: GitRepository): void {
    const key = keyOf(repo);
    clearTimeout(this.schedules.get(key)?.timer);
    this.schedules.delete(key);
    this.repos.delete(key);
  }

  private arm(key: string, delayMs: number): void {
    const schedule = this.schedules.get(key);
    if (!schedule || this.stopped || !this.ownership.owns(key)) return;
    clearTimeout(schedule.timer);
    schedule.timer = setTimeout(() => void this.run(key), delayMs);
  }

  private async run(key: string): Promise<void> {
    const schedule = this.schedules.get(key);
    const repo = this.repos.get(key);
    if (!schedule || !repo || repo.spec.suspend || !this.ownership.owns(key)) return;
    if (schedule.running) return this.arm(key, 100);
    schedule.running = true;
    const interval = intervalOf(repo);
    try {
      const outcome = await this.ownership.during(key, () => this.poller.poll(repo));
      schedule.failures = 0;
      if (outcome.kind === 'published') this.logger.log(`${key}: new head ${outcome.sha}`);
      this.arm(key, interval);
    } catch (e) {
      schedule.failures++;
      const delay = backoffDelay(schedule.failures, this.config.RETRY_BASE_MS, interval, Math.random());
      this.logger.warn(
        `${key}: ${withoutCredentials(e instanceof Error ? e.message : String(e))} (retry ${schedule.failures} in ${delay} ms)`,
      );
      this.arm(key, delay);
    } finally {
      schedule.running = false;
    }
  }
}

function keyOf(repo: GitRepository): string {
  return `${repo.metadata.namespace}/${repo.metadata.name}`;
}

function intervalOf(repo: GitRepository): number {
  try {
    return parseDuration(repo.spec.interval ?? '1m');
  } catch {
    return 60_000; // the CRD's pattern rejects bad intervals; this only guards older objects
  }
}
