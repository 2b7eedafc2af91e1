/** What a GitRepository follows; exactly one is set (the CRD enforces it). */
export interface GitRef {
  branch?: string;
  tag?: string;
  semver?: string;
  commit?: string;
}

/** Flux's revision format: `<branch or tag>@sha1:<sha>`, or `sha1:<sha>` for a pinned commit. */
export function formatRevision(ref: GitRef, sha: string): string {
  const name = ref.branch ?? ref.tag;
  return name ? `${name}@sha1:${sha}` : `sha1:${sha}`;
}

export function shaOfRevision(revision: string): string | undefined {
  return /sha1:([0-9a-f]{40})$/.exec(revision)?.[1];
}

export function describeRef(ref: GitRef): string {
  if (ref.commit) return `commit/${ref.commit}`;
  if (ref.tag) return `tag/${ref.tag}`;
  if (ref.semver) return `semver/${ref.semver}`;
  return `branch/${ref.branch ?? 'main'}`;
}
