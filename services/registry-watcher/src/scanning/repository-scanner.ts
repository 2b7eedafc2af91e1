import { Inject, Injectable, Logger } from '@nestjs/common';
import { readyConditions } from '@capstan/gitops-core';
import { canonicalName, parseImageRef, type ImageRef } from '@capstan/image-policy';
import { Bus } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import { imagePushedEvent } from '../domain/image-event.js';
import { diffTags, recordListing } from '../domain/seen-tags.js';
import { RegistryWatcherMetrics } from '../metrics.js';
import { ImageResources } from '../resources/image-resources.js';
import type { ImageRepository } from '../resources/image-types.js';
import { InvalidRepositoryError } from './invalid-repository.js';
import { RegistryAccess } from './registry-access.js';
import { RepositoryLogin } from './repository-login.js';
import { SeenStore } from './seen-store.js';

export { InvalidRepositoryError };

export interface ScanResult {
  repository: string;
  tags: number;
  published: number;
  requests: number;
}

/**
 * One scan of one ImageRepository: list every tag, read the digest of tags not seen before (HEAD,
 * no pull), publish `image.pushed` for each, remember the listing, and report in status. The first
 * scan of a repository records a baseline without publishing.
 */
@Injectable()
export class RepositoryScanner {
  private readonly logger = new Logger('RepositoryScanner');
  /** Who pushed a tag, from a notification without a digest (Docker Hub), for the scan that finds it. */
  private readonly pushers = new Map<string, string>();
  /**
   * Called after every successful scan, with the canonical repository name and the object scanned;
   * awaited, so the work a scan causes (its policies' evaluation) holds the scan's slot and
   * SCAN_CONCURRENCY bounds the memory of both.
   */
  readonly scanned: ((repository: string, scanned: ImageRepository) => Promise<void>)[] = [];

  constructor(
    private readonly resources: ImageResources,
    private readonly store: SeenStore,
    private readonly access: RegistryAccess,
    private readonly bus: Bus,
    private readonly login: RepositoryLogin,
    private readonly metrics: RegistryWatcherMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  notePusher(repository: string, tag: string, pusher: string): void {
    if (this.pushers.size > 10_000) this.pushers.clear();
    this.pushers.set(`${repository}:${tag}`, pusher);
  }

  async scan(repo: ImageRepository): Promise<ScanResult> {
    const { namespace, name } = repo.metadata;
    try {
      const result = await this.scanOnce(repo);
      this.metrics.scans.inc({ result: 'success' });
      for (const f of this.scanned) await f(result.repository, repo);
      return result;
    } catch (e) {
      this.metrics.scans.inc({ result: 'failure' });
      const stalled = e instanceof InvalidRepositoryError;
      await this.patch(repo, {
        conditions: readyConditions(
          repo.status?.conditions ?? [],
          {
            ready: false,
            reason: stalled ? 'InvalidSpec' : 'ScanFailed',
            message: e instanceof Error ? e.message : String(e),
            stalled,
            ...gen(repo),
          },
          this.clock.now(),
        ),
        ...(repo.metadata.generation === undefined ? {} : { observedGeneration: repo.metadata.generation }),
      });
      this.logger.warn(`${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  }

  private async scanOnce(repo: ImageRepository): Promise<ScanResult> {
    const ref = imageOf(repo);
    const key = canonicalName(ref);
    const exclusions = (repo.spec.exclusionList ?? ['^.*\\.sig$']).map((p, i) => {
      try {
        return new RegExp(p);
      } catch (e) {
        throw new InvalidRepositoryError(
          `spec.exclusionList[${i}]`,
          `invalid regular expression "${p}": ${(e as Error).message}`,
        );
      }
    });
    const image = await this.login.access(repo, ref);
    const before = this.access.client.requestCount(ref.registry);
    const listed = (await this.access.client.listTags(image)).filter(
      (t) => !exclusions.some((x) => x.test(t)),
    );
    const seen = await this.store.get(key);
    const { fresh } = diffTags(seen, listed);
    const digests: Record<string, string> = {};
    let published = 0;
    // A handful at a time: a burst of new tags must not trip the registry's abuse limits.
    for (let i = 0; i < fresh.length; i += 8) {
      await Promise.all(
        fresh.slice(i, i + 8).map(async (tag) => {
          const head = await this.access.client.headManifest(image, tag);
          digests[tag] = head.digest;
          const pusher = this.pushers.get(`${key}:${tag}`);
          const ack = await this.bus.publish(
            imagePushedEvent(
              {
                registry: ref.registry,
                repository: ref.repository,
                tag,
                digest: head.digest,
                pushedAt: this.clock.now(),
                ...(pusher ? { pusher } : {}),
              },
              this.clock.now(),
            ),
          );
          if (!ack.duplicate) {
            published++;
            this.metrics.published.inc({ source: 'scan' });
          }
        }),
      );
    }
    await this.store.put(key, recordListing(seen, listed, digests));
    const requests = this.access.client.requestCount(ref.registry) - before;
    await this.patch(repo, {
      canonicalImageName: key,
      lastScanResult: {
        tagCount: listed.length,
        newTags: fresh.length,
        requests,
        scanTime: this.clock.now().toISOString(),
        latestTags: [...listed].sort().reverse().slice(0, 10),
      },
      ...(repo.metadata.generation === undefined ? {} : { observedGeneration: repo.metadata.generation }),
      conditions: readyConditions(
        repo.status?.conditions ?? [],
        {
          ready: true,
          reason: 'Succeeded',
          message: `${listed.length} tag(s)${seen?.baselined ? `, ${fresh.length} new` : ' (baseline)'}`,
          stalled: false,
          ...gen(repo),
        },
        this.clock.now(),
      ),
    });
    return { repository: key, tags: listed.length, published, requests };
  }

  private async patch(repo: ImageRepository, status: NonNullable<ImageRepository['status']>): Promise<void> {
    await this.resources
      .patchStatus('ImageRepository', repo.metadata.namespace, repo.metadata.name, status)
      .catch((e: unknown) =>
        this.logger.warn(
          `${repo.metadata.namespace}/${repo.metadata.name}: status not recorded: ${String(e)}`,
        ),
      );
  }
}

export function imageOf(repo: ImageRepository): ImageRef {
  let ref: ImageRef;
  try {
    ref = parseImageRef(repo.spec.image);
  } catch (e) {
    throw new InvalidRepositoryError('spec.image', (e as Error).message);
  }
  if (ref.tag || ref.digest)
    throw new InvalidRepositoryError(
      'spec.image',
      `"${repo.spec.image}" must name a repository, without tag or digest`,
    );
  return ref;
}

function gen(repo: ImageRepository): { generation?: number } {
  return repo.metadata.generation === undefined ? {} : { generation: repo.metadata.generation };
}
