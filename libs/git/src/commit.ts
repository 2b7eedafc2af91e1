export interface CommitInfo {
  sha: string;
  parents: string[];
  author: { name: string; email: string; time: string };
  committer: { name: string; email: string; time: string };
  message: string;
}

// Fields separated by a unit separator, records by a record separator: neither occurs in commits.
const US = '\x1f';
export const COMMIT_FORMAT = ['%H', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join('%x1f');

/**
 * The most of a commit message (and of a name or email) Capstan carries: the message travels in
 * events (NATS refuses payloads over 1 MB), statuses and the audit log, so a 10 MB message must
 * not keep a repository from ever being observed.
 */
export const MAX_COMMIT_MESSAGE = 64 * 1024;
const MAX_IDENTITY = 1024;

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters not kept)`;
}

/** Parses one record of `git log -1 --format=COMMIT_FORMAT`. Pure. */
export function parseCommitRecord(record: string): CommitInfo {
  const [sha, parents, an, ae, at, cn, ce, ct, ...body] = record.replace(/^\n+/, '').split(US);
  if (!sha || at === undefined || ct === undefined)
    throw new Error(`unexpected git log output: ${record.slice(0, 200)}`);
  return {
    sha: sha.trim(),
    parents: (parents ?? '').trim().split(' ').filter(Boolean),
    author: {
      name: bounded(an ?? '', MAX_IDENTITY),
      email: bounded(ae ?? '', MAX_IDENTITY),
      time: new Date(at).toISOString(),
    },
    committer: {
      name: bounded(cn ?? '', MAX_IDENTITY),
      email: bounded(ce ?? '', MAX_IDENTITY),
      time: new Date(ct).toISOString(),
    },
    message: bounded(body.join(US).replace(/\n+$/, ''), MAX_COMMIT_MESSAGE),
  };
}
