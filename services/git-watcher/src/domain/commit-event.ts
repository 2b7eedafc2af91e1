import {
  COMMIT_OBSERVED_V1,
  commitObservedId,
  type CommitObservedV1,
  type CommitVerification,
} from '@capstan/events';
import {
  describeRef,
  followsHead,
  formatRevision,
  withoutCredentials,
  type GitRef,
} from '@capstan/gitops-core';
import type { CommitInfo } from '@capstan/git';

export interface ObservedRepository {
  namespace: string;
  name: string;
  url: string;
  ref: GitRef;
}

export interface ObservedDetails {
  /** The tag a semver range chose; the revision names it, as Flux does. */
  resolvedName?: string;
  verification?: CommitVerification;
}

/** The commit-observed event for a repository's new head. Pure: time comes in. */
export function commitObservedEvent(
  repo: ObservedRepository,
  commit: CommitInfo,
  now: Date,
  details: ObservedDetails = {},
): CommitObservedV1 {
  const revision = revisionOf(repo.ref, commit.sha, details.resolvedName);
  return {
    specversion: '1.0',
    id: commitObservedId(repo.namespace, repo.name, commit.sha),
    source: '/capstan/git-watcher',
    type: COMMIT_OBSERVED_V1,
    subject: `${repo.namespace}/${repo.name}`,
    time: now.toISOString(),
    datacontenttype: 'application/json',
    data: {
      // The event goes to every consumer and the audit log: never a URL's credentials.
      repository: { namespace: repo.namespace, name: repo.name, url: withoutCredentials(repo.url) },
      ref: describeRef(repo.ref),
      revision,
      sha: commit.sha,
      parents: commit.parents,
      author: commit.author,
      committer: commit.committer,
      message: commit.message,
      observedAt: now.toISOString(),
      ...(details.verification ? { verification: details.verification } : {}),
    },
  };
}

/**
 * `<branch or tag>@sha1:<sha>`; for a semver range, the tag it resolved to; with no ref, the
 * remote's default branch it resolved to. Pure.
 */
export function revisionOf(ref: GitRef, sha: string, resolvedName?: string): string {
  if (followsHead(ref) && resolvedName) return formatRevision({ branch: resolvedName }, sha);
  return ref.semver && resolvedName && !ref.commit
    ? formatRevision({ tag: resolvedName }, sha)
    : formatRevision(ref, sha);
}

/** The ref a GitRepository follows; none means the remote's default branch (HEAD), as the CRD says. */
export function refOf(spec: { ref?: GitRef }): GitRef {
  return spec.ref ?? {};
}
