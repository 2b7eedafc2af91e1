import { createHash } from 'node:crypto';
import type { PodTemplate } from './workload-objects.js';

/** JSON with sorted keys, so the same template always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function checksum(data: unknown): string {
  return createHash('sha256').update(canonical(data)).digest('hex').slice(0, 16);
}

/**
 * A revision is the pod template plus the checksums of the configs it reads: a changed
 * ConfigMap is a new revision like a changed image (Flagger's config tracking).
 */
export function revisionOf(
  template: PodTemplate | undefined,
  trackedConfigs: Record<string, string>,
): string {
  return checksum({ template: template ?? {}, configs: trackedConfigs });
}
