import type { TagPolicy } from './tag-policy.js';

/**
 * Flux v1's tag filter (`fluxcd.io/tag.<container>` and friends): `glob:` (also the default with
 * no prefix), `semver:`, `regex:`/`regexp:`. Glob and regex pick the newest build; semver the highest.
 */
export function parseFluxV1Filter(value: string): TagPolicy {
  const v = value.trim();
  const colon = v.indexOf(':');
  const prefix = colon > 0 ? v.slice(0, colon) : '';
  const body = colon > 0 ? v.slice(colon + 1) : v;
  switch (prefix) {
    case 'semver':
      return { order: { kind: 'semver', range: body } };
    case 'regex':
    case 'regexp':
      return { order: { kind: 'regex', pattern: body } };
    case 'glob':
      return { order: { kind: 'glob', pattern: body } };
    default:
      return { order: { kind: 'glob', pattern: v } };
  }
}

/** Field names for a Flux v1 annotation filter, so errors name the annotation the user wrote. */
export function fluxV1FieldNames(annotation: string) {
  const field = `metadata.annotations["${annotation}"]`;
  return { semverRange: field, pattern: field, filterPattern: field, filterExtract: field, exclude: field };
}
