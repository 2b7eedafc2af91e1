import type { ChangeSetEntry } from '@capstan/events';

/** Why a reconcile failed. Closed set: status reasons and decision reasons come from here. */
export type FailureReason =
  'ArtifactFailed' | 'BuildFailed' | 'ApplyFailed' | 'HookFailed' | 'CommitNotVerified';

/** Health of the applied objects when the Sync waits for them (spec.wait). */
export interface HealthOutcome {
  healthy: boolean;
  timedOut: boolean;
  unhealthy: { object: string; status: string; message: string }[];
}

export type ReconcileOutcome =
  | {
      kind: 'applied';
      changeSet: ChangeSetEntry[];
      /** What pruning did: deleted entries, and stale objects it left alone (skipped). */
      pruned?: ChangeSetEntry[];
      /** Helm hooks run, in order; recorded in the decision, never in the inventory. */
      hooks?: ChangeSetEntry[];
      /** Every object of the set, skipped ones included, so opting out is never a prune. */
      inventory?: { id: string; v: string }[];
      /** Undefined when the Sync does not wait for health. */
      health?: HealthOutcome;
    }
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
    case 'HookFailed':
    case 'CommitNotVerified':
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

/** The deletions of a change set: what the pruned decision lists. */
export function deletionsOf(changeSet: readonly ChangeSetEntry[]): ChangeSetEntry[] {
  return changeSet.filter((c) => c.action === 'deleted');
}

/** One line naming the objects not healthy yet, for Ready's message. */
export function describeUnhealthy(health: HealthOutcome): string {
  const list = health.unhealthy.map((u) => `${u.object} (${u.status}: ${u.message})`);
  const shown = list.slice(0, 10).join(', ');
  return list.length > 10 ? `${shown} and ${list.length - 10} more` : shown;
}
