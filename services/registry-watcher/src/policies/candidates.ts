import { Injectable } from '@nestjs/common';
import {
  canonicalName,
  globToRegExp,
  selectTag,
  type Selection,
  type TagCandidate,
  type TagPolicy,
} from '@capstan/image-policy';
import type { RepositoryRef } from '@capstan/registry';
import { needsBuildTimes } from '../domain/policy-spec.js';
import { RegistryAccess } from '../scanning/registry-access.js';
import { SeenStore } from '../scanning/seen-store.js';

/**
 * Runs a tag policy over what we know of a repository: the tags the scans (or notifications)
 * recorded, build times from image configs only for the tags a build-time rule could pick, and
 * the chosen tag's digest (one HEAD when the listing did not resolve it).
 */
@Injectable()
export class Candidates {
  constructor(
    private readonly store: SeenStore,
    private readonly access: RegistryAccess,
  ) {}

  /** `image` carries the login of the ImageRepository the policy follows, if any. */
  async select(image: RepositoryRef, policy: TagPolicy): Promise<Selection> {
    const key = canonicalName(image);
    const seen = await this.store.get(key);
    // A repository no ImageRepository scans (Flux v1 annotations alone): list it now.
    const tags = seen
      ? seen.tags
      : Object.fromEntries((await this.access.client.listTags(image)).map((t) => [t, '']));
    let candidates: TagCandidate[] = Object.entries(tags).map(([tag, digest]) => ({
      tag,
      ...(digest ? { digest } : {}),
    }));
    if (needsBuildTimes(policy)) {
      const wanted = new Set(
        prefilter(
          policy,
          candidates.map((c) => c.tag),
        ),
      );
      candidates = await Promise.all(
        candidates.map(async (c) => {
          if (!wanted.has(c.tag)) return c;
          const info = await this.access.info(image, c.tag, c.digest ?? '');
          return { tag: c.tag, digest: info.digest, ...(info.created ? { created: info.created } : {}) };
        }),
      );
    }
    const selection = selectTag(policy, candidates);
    if (selection.kind === 'chosen' && !selection.digest) {
      const head = await this.access.client.headManifest(image, selection.tag);
      return { ...selection, digest: head.digest };
    }
    return selection;
  }
}

/** The tags a build-time rule could pick, so configs are read only for those. */
function prefilter(policy: TagPolicy, tags: string[]): string[] {
  const exclude = (policy.exclude ?? []).map((p) => new RegExp(p));
  const filter = policy.filter ? new RegExp(policy.filter.pattern) : undefined;
  const order = policy.order;
  const match =
    order.kind === 'glob'
      ? globToRegExp(order.pattern)
      : order.kind === 'regex'
        ? new RegExp(order.pattern)
        : undefined;
  return tags.filter(
    (t) => !exclude.some((x) => x.test(t)) && (!filter || filter.test(t)) && (!match || match.test(t)),
  );
}
