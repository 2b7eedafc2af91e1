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

/** Parses one record of `git log -1 --format=COMMIT_FORMAT`. Pure. */
export function parseCommitRecord(record: string): CommitInfo {
  const [sha, parents, an, ae, at, cn, ce, ct, ...body] = record.replace(/^\n+/, '').split(US);
  if (!sha || at === undefined || ct === undefined)
    throw new Error(`unexpected git log output: ${record.slice(0, 200)}`);
  return {
    sha: sha.trim(),
    parents: (parents ?? '').trim().split(' ').filter(Boolean),
    author: { name: an ?? '', email: ae ?? '', time: new Date(at).toISOString() },
    committer: { name: cn ?? '', email: ce ?? '', time: new Date(ct).toISOString() },
    message: body.join(US).replace(/\n+$/, ''),
  };
}
