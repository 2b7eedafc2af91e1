import type { ChangeSetEntry } from '@capstan/events';

/** Why a reconcile failed. Closed set: status reasons and decision reasons come from here. */
export type FailureReason = 'ArtifactFailed' | 'BuildFailed' | 'ApplyFailed';

export type ReconcileOutcome =
  | { kind: 'applied'; changeSet: ChangeSetEntry[] }
  | {
      kind: 'failed';
      reason: FailureReason;
      message: string;
      failures: { object?: string; file?: string; document?: number; message: string }[];
    };

/** Retrying cannot fix a bad commit; it can fix a network blip. kstatus calls the former Stalled. */
export function isTerminal(reason: FailureReason): boolean {
  switch (reason) {
    case 'BuildFailed':
    case 'ApplyFailed':
      return true;
    case 'ArtifactFailed':
      return false;
  }
}

export function summarize(changeSet: readonly ChangeSetEntry[]): string {
  const counts = new Map<string, number>();
  for (const c of changeSet) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  return [...counts].map(([a, n]) => `${n} ${a}`).join(', ') || 'nothing to apply';
}
