import { posix } from 'node:path';
import { GitContentError } from './errors.js';

/** Normalizes a Sync's `path` inside the repository; `..` that leaves the repository is an error. */
export function repoPath(path: string | undefined): string {
  const normalized = posix.normalize(posix.join('/', path ?? './'));
  // posix.join('/', ...) clamps at root, so compare with a raw resolution to catch escapes.
  const raw = posix.normalize(path ?? '.');
  if (raw === '..' || raw.startsWith('../'))
    throw new GitContentError(path ?? '.', 'path escapes the repository');
  return normalized === '/' ? '' : normalized.slice(1);
}

/** Resolves a symlink target relative to the link; outside the repository is an error. */
export function resolveLink(linkPath: string, target: string): string {
  if (target.startsWith('/'))
    throw new GitContentError(linkPath, `symlink to absolute path ${target} escapes the repository`);
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../'))
    throw new GitContentError(linkPath, `symlink to ${target} escapes the repository`);
  return resolved;
}
