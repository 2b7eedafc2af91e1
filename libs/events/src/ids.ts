import { createHash } from 'node:crypto';

/**
 * Deterministic ids: the same fact always gets the same id, so a republish after a crash is
 * dropped by JetStream's duplicate window (Nats-Msg-Id) and by the consumers' processed marks.
 */
export function commitObservedId(repoNamespace: string, repoName: string, sha: string): string {
  return `commit:${repoNamespace}/${repoName}@${sha}`;
}

/** A stable id from parts, for ids that would otherwise be too long or carry odd characters. */
export function stableId(kind: string, ...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return `${kind}:${h.digest('hex').slice(0, 32)}`;
}
