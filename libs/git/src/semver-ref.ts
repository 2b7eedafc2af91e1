import semver from 'semver';

/** The highest tag that satisfies a SemVer range (`v` prefixes allowed, like Flux). Pure. */
export function pickSemverTag(tags: readonly string[], range: string): string | undefined {
  const valid = semver.validRange(range);
  if (valid === null) throw new RangeError(`invalid semver range "${range}"`);
  let best: { tag: string; version: semver.SemVer } | undefined;
  for (const tag of tags) {
    const version = semver.parse(tag.replace(/^v/i, ''));
    if (!version || !semver.satisfies(version, valid)) continue;
    // Ties (v1.0.0 and 1.0.0) go to the lexically larger name so the choice is deterministic.
    const cmp = best ? semver.compare(version, best.version) : 1;
    if (cmp > 0 || (cmp === 0 && best && tag > best.tag)) best = { tag, version };
  }
  return best?.tag;
}
