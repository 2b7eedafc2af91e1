import {
  DEFAULT_EXCLUSIONS,
  FLUX_V2_FIELDS,
  validateTagPolicy,
  type PolicyFieldError,
  type TagPolicy,
} from '@capstan/image-policy';
import type { ImagePolicy, ImageRepository } from '../resources/image-types.js';

export type PolicySpecResult = { ok: true; policy: TagPolicy } | { ok: false; errors: PolicyFieldError[] };

/**
 * An ImagePolicy (and its repository's exclusion list) as a tag policy, or every field that makes
 * it unusable. `digestReflectionPolicy` other than Never pins digests in what gets written.
 */
export function tagPolicyOf(policy: ImagePolicy, repository?: ImageRepository): PolicySpecResult {
  const p = policy.spec.policy;
  const chosen = [p.semver, p.alphabetical, p.numerical, p.newestBuild].filter((x) => x !== undefined);
  if (chosen.length !== 1)
    return {
      ok: false,
      errors: [
        { field: 'spec.policy', message: 'exactly one of semver, alphabetical, numerical, newestBuild' },
      ],
    };
  const order: TagPolicy['order'] = p.semver
    ? { kind: 'semver', range: p.semver.range }
    : p.alphabetical
      ? { kind: 'alphabetical', order: p.alphabetical.order ?? 'asc' }
      : p.numerical
        ? { kind: 'numerical', order: p.numerical.order ?? 'asc' }
        : { kind: 'newest-build' };
  const exclusions = repository?.spec.exclusionList;
  const tagPolicy: TagPolicy = {
    order,
    ...(policy.spec.filterTags
      ? {
          filter: {
            pattern: policy.spec.filterTags.pattern,
            ...(policy.spec.filterTags.extract ? { extract: policy.spec.filterTags.extract } : {}),
          },
        }
      : {}),
    exclude: exclusions ?? DEFAULT_EXCLUSIONS,
    pinDigest: (policy.spec.digestReflectionPolicy ?? 'Never') !== 'Never',
  };
  // Exclusions belong to the ImageRepository; name them there.
  const errors = validateTagPolicy(tagPolicy, FLUX_V2_FIELDS).map((e) =>
    e.field.startsWith('spec.exclusionList')
      ? { ...e, field: `ImageRepository ${repository?.metadata.name ?? '?'} ${e.field}` }
      : e,
  );
  return errors.length ? { ok: false, errors } : { ok: true, policy: tagPolicy };
}

/** Whether the newest-build rule needs the image configs' `created` (one config read per tag). */
export function needsBuildTimes(policy: TagPolicy): boolean {
  return (
    policy.order.kind === 'newest-build' || policy.order.kind === 'glob' || policy.order.kind === 'regex'
  );
}
