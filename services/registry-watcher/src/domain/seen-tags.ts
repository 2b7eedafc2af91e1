/**
 * What the watcher remembers of a repository: tag → digest ('' when only listed, not yet
 * resolved). A repository seen for the first time is a baseline: its existing tags are recorded
 * without publishing, so turning automation on does not replay a registry's whole history.
 */
export interface SeenTags {
  tags: Record<string, string>;
  /** Set once the first full listing was recorded. */
  baselined: boolean;
}

export interface TagDiff {
  /** Tags to publish as pushed (after their digest is read). */
  fresh: string[];
  /** Tags gone from the registry. */
  removed: string[];
}

export function diffTags(seen: SeenTags | undefined, listed: readonly string[]): TagDiff {
  if (!seen?.baselined) return { fresh: [], removed: [] };
  const now = new Set(listed);
  return {
    fresh: listed.filter((t) => !(t in seen.tags)),
    removed: Object.keys(seen.tags).filter((t) => !now.has(t)),
  };
}

export function recordListing(
  seen: SeenTags | undefined,
  listed: readonly string[],
  digests: Readonly<Record<string, string>>,
): SeenTags {
  const tags: Record<string, string> = {};
  for (const t of listed) tags[t] = digests[t] ?? seen?.tags[t] ?? '';
  return { tags, baselined: true };
}
