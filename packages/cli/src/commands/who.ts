import type { HistoryEntry } from '../audit-client.js';
import { renderTable, truncate } from '../table.js';

/** "Who deployed what": one line per decision that touched the object, newest first. Pure. */
export function renderWho(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return 'No decisions recorded for this object.';
  return renderTable(
    ['time', 'action', 'change', 'revision', 'author', 'committer', 'message'],
    entries.map((e) => [
      e.time.replace(/\.\d+Z$/, 'Z'),
      e.action,
      e.objectAction ?? '-',
      e.revision ? shortRevision(e.revision) : '-',
      e.author ? `${e.author.name} <${e.author.email}>` : `${e.actor.name} (${e.actor.kind})`,
      e.committer ? e.committer.name : '-',
      truncate(e.commitMessage ?? e.message, 60),
    ]),
  );
}

function shortRevision(revision: string): string {
  return revision.replace(/sha1:([0-9a-f]{12})[0-9a-f]+$/, 'sha1:$1');
}
