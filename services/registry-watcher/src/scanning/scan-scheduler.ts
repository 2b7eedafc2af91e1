import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { backoffDelay, parseDuration } from '@capstan/gitops-core';
import { canonicalName } from '@capstan/image-policy';
import { REGISTRY_WATCHER_CONFIG, type RegistryWatcherConfig } from '../config.js';
import { ImageWatch } from '../resources/image-watch.service.js';
import type { ImageRepository } from '../resources/image-types.js';
import { imageOf, InvalidRepositoryError, RepositoryScanner } from './repository-scanner.js';
import { ScanOwnership } from './scan-ownership.js';

interface Schedule {
  timer?: NodeJS.Timeout;
  running: boolean;
  again: boolean;
  failures: number;
  generation?: number;
}

/**
 * One timer per ImageRepository: scan on its interval, at once when it changes or a notification
 * names it. Scans of one repository never overlap; one asked for mid-scan runs right after. Only
 * the ImageRepositories this replica owns (ScanOwnership): a shard gained is scanned at once.
 */
@Injectable()
export class ScanScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly schedules = new Map<string, Schedule>();
  private stopped = false;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private requests?: { unsubscribe(): void };

  constructor(
    private readonly watch: ImageWatch,
    private readonly scanner: RepositoryScanner,
    @Inject(REGISTRY_WATCHER_CONFIG) private readonly config: RegistryWatcherConfig,
    private readonly ownership: ScanOwnership,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.watch.onRepository((kind, repo) => (kind === 'upsert' ? this.upsert(repo) : this.remove(repo)));
    this.ownership.onGained((shards) => {
      for (const key of this.ownership.within(shards, this.schedules.keys())) this.arm(key, 0);
    });
    this.ownership.onLost((shards) => {
      for (const key of this.ownership.within(shards, this.schedules.keys()))
        clearTimeout(this.schedules.get(key)?.timer);
    });
    this.requests = this.ownership.listen((repository) => this.scanOwned(repository));
    await this.ownership.leases.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const s of this.schedules.values()) clearTimeout(s.timer);
    this.requests?.unsubscribe();
    await this.ownership.leases.stop();
  }

  /**
   * Scans now every ImageRepository of `registry/repository`, on whichever replica owns each;
   * how many there were.
   */
  requestScan(repository: string): number {
    const n = this.watch
      .repositories()
      .filter((repo) => !repo.spec.suspend && canonicalOf(repo) === repository).length;
    if (n > 0) this.ownership.forward(repository);
    return n;
  }

  private scanOwned(repository: string): void {
    for (const repo of this.watch.repositories())
      if (!repo.spec.suspend && canonicalOf(repo) === repository) this.arm(keyOf(repo), 0);
  }

  private upsert(repo: ImageRepository): void {
    const key = keyOf(repo);
    const schedule = this.schedules.get(key) ?? { running: false, again: false, failures: 0 };
    this.schedules.set(key, schedule);
    if (repo.spec.suspend) {
      clearTimeout(schedule.timer);
      return;
    }
    if (schedule.generation !== repo.metadata.generation) {
      schedule.generation = repo.metadata.generation;
      this.arm(key, 0);
    }
  }

  private remove(repo: ImageRepository): void {
    const key = keyOf(repo);
    clearTimeout(this.schedules.get(key)?.timer);
    this.schedules.delete(key);
  }

  private arm(key: string, delayMs: number): void {
    const schedule = this.schedules.get(key);
    if (!schedule || this.stopped || !this.ownership.owns(key)) return;
    if (schedule.running && delayMs === 0) {
      schedule.again = true;
      return;
    }
    clearTimeout(schedule.timer);
    schedule.timer = setTimeout(() => void this.run(key), delayMs);
  }

  /** Waits for one of SCAN_CONCURRENCY scan slots (a hundred repositories due at once queue up). */
  private async slot(): Promise<void> {
    if (this.active < this.config.SCAN_CONCURRENCY) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private async run(key: string): Promise<void> {
    const schedule = this.schedules.get(key);
    const [namespace = '', name = ''] = key.split('/');
    const repo = this.watch.repository(namespace, name);
    if (!schedule || !repo || repo.spec.suspend || !this.ownership.owns(key)) return;
    schedule.running = true;
    schedule.again = false;
    const interval = intervalOf(repo);
    let next = interval;
    await this.slot();
    try {
      await this.ownership.during(key, () =>
        this.scanner.scan(this.watch.repository(namespace, name) ?? repo),
      );
      schedule.failures = 0;
    } catch (e) {
      // A spec error waits for the object to change; anything else retries with backoff.
      schedule.failures++;
      next =
        e instanceof InvalidRepositoryError
          ? interval
          : backoffDelay(schedule.failures, this.config.RETRY_BASE_MS, interval, Math.random());
    } finally {
      schedule.running = false;
      this.release();
    }
    // A scan asked for while this one ran (set from another callback) goes right away.
    this.arm(key, askedAgain(schedule) ? 0 : next);
  }
}

function askedAgain(schedule: Schedule): boolean {
  return schedule.again;
}

function keyOf(repo: ImageRepository): string {
  return `${repo.metadata.namespace}/${repo.metadata.name}`;
}

export function canonicalOf(repo: ImageRepository): string | undefined {
  try {
    return canonicalName(imageOf(repo));
  } catch {
    return undefined;
  }
}

function intervalOf(repo: ImageRepository): number {
  try {
    return parseDuration(repo.spec.interval ?? '5m');
  } catch {
    return 300_000;
  }
}
