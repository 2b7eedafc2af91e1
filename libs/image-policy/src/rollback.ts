import { ranksAfter, type TagPolicy } from './tag-policy.js';

/** One commit that changed a slot's tag, newest first as `git log` lists them. */
export interface TagChange {
  sha: string;
  author: { name: string; email: string };
  before: string;
  after: string;
}

/**
 * A person's rollback: the latest change of the slot's tag was made by someone other than the
 * automation and moved it to a tag the policy ranks lower. A later change by a person (forward
 * or sideways) ends it, as does the automation's own change.
 */
export function humanRollback(
  changes: readonly TagChange[],
  automationEmail: string,
  policy: TagPolicy,
): { from: string; to: string; by: string; sha: string } | undefined {
  const latest = changes[0];
  if (!latest || latest.author.email === automationEmail) return undefined;
  if (!ranksAfter(policy, { tag: latest.before }, { tag: latest.after })) return undefined;
  return { from: latest.before, to: latest.after, by: latest.author.name, sha: latest.sha };
}
