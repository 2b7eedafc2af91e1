import type { GitSource } from '@capstan/events';
import type { CommitInfo } from '@capstan/git';
import type { GitRepository } from '@capstan/kube';
import { describeRef, withoutCredentials } from '@capstan/gitops-core';

/** Which repository a commit came from, and what it followed to get there. */
export interface SourceOrigin {
  /** The GitRepository, `namespace/name`. */
  repository: string;
  url: string;
  /** What the GitRepository follows, described as the git-watcher does: `branch/main`, `tag/v1`. */
  ref: string;
  /** Flux's `<branch or tag>@sha1:<sha>`, as the git-watcher published it. */
  revision: string;
}

/**
 * The commit's source fields for decisions, built in one place. A commit reaches the reconciler
 * two ways (the git-watcher's event, the GitRepository's artifact at an interval); copying the
 * fields by hand in both recorded the same commit as `branch/main` from one and `main` from the
 * other. Pure. The URL loses its credentials here: decisions go to the audit log for good.
 */
export function gitSourceOf(origin: SourceOrigin, commit: CommitInfo): GitSource {
  return {
    repository: origin.repository,
    url: withoutCredentials(origin.url),
    ref: origin.ref,
    revision: origin.revision,
    sha: commit.sha,
    parents: commit.parents,
    message: commit.message,
    author: commit.author,
    committer: commit.committer,
  };
}

/** The origin of a GitRepository's artifact (the GitRepository's spec names what it follows). */
export function originOf(repo: GitRepository, revision: string): SourceOrigin {
  return {
    repository: `${repo.metadata.namespace}/${repo.metadata.name}`,
    url: repo.spec.url,
    ref: describeRef(repo.spec.ref ?? {}),
    revision,
  };
}
