import ignore from 'ignore';

/**
 * Which repository paths to leave out, from the GitRepository's `spec.ignore` and the repository's
 * own `.capstanignore` (both gitignore syntax; later rules win, so `spec.ignore` can re-include
 * with `!`). Pure. Paths are repository-relative, as `readTree` yields them.
 */
export function buildIgnore(
  specIgnore: string | undefined,
  capstanignoreContent: string | undefined,
): (path: string) => boolean {
  const rules = ignore()
    .add(capstanignoreContent ?? '')
    .add(specIgnore ?? '');
  return (path) => {
    const clean = path.replace(/^\.?\//, '');
    return clean !== '' && rules.ignores(clean);
  };
}

/** Where `buildIgnore` reads the repository's own rules from. */
export const CAPSTANIGNORE = '.capstanignore';
