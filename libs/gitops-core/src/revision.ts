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

export function describeRef(ref: GitRef): string {
  if (ref.commit) return `commit/${ref.commit}`;
  if (ref.tag) return `tag/${ref.tag}`;
  if (ref.semver) return `semver/${ref.semver}`;
  if (ref.branch) return `branch/${ref.branch}`;
  return 'HEAD';
}

/** No ref at all: the remote's default branch (its HEAD) is followed, as `git clone` does. */
export function followsHead(ref: GitRef | undefined): boolean {
  return !ref?.branch && !ref?.tag && !ref?.semver && !ref?.commit;
}

/** A revision's parts: the branch or tag it names (none for a pinned commit) and the commit. */
export interface ParsedRevision {
  name?: string;
  sha: string;
}

/**
 * The one reader of Flux's revision format (`main@sha1:<sha>`, `sha1:<sha>`); undefined for
 * anything else, so a caller never mistakes a ref for a revision.
 */
export function parseRevision(revision: string): ParsedRevision | undefined {
  const match = /^(?:(.+)@)?sha1:([0-9a-f]{40})$/.exec(revision);
  if (!match?.[2]) return undefined;
  return match[1] ? { name: match[1], sha: match[2] } : { sha: match[2] };
}

export function shaOfRevision(revision: string): string | undefined {
  return parseRevision(revision)?.sha;
}
