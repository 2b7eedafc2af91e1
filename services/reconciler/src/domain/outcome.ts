import type { TenancyRefusal } from '@capstan/gitops-core';
import type { ReleaseOptions } from '@capstan/render';
import type { ChangeSetEntry } from '@capstan/events';

/**
 * Why a reconcile failed, one per phase that can fail. Closed set: status reasons and decision
 * reasons come from here.
 */
export type FailureReason =
  | 'ArtifactFailed'
  | 'CommitNotVerified'
  | 'CrossNamespaceRefNotAllowed'
  | 'TenancyPolicyDenied'
  | 'BuildFailed'
  | 'ValidationFailed'
  | 'ApplyFailed'
  | 'HookFailed'
  /** The reconciler stopped during the last attempt: held back for a while (domain/attempts.ts). */
  | 'Quarantined';

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
      /** The set's HelmReleases; a failed one was left out, the rest applied. */
      releases?: ReleaseOutcome[];
      /** Objects of failed releases that prune kept: they stay in the inventory. */
      kept?: ChangeSetEntry[];
      /** HelmReleases whose failed upgrade was rolled back, with what each rollback wrote. */
      rollbacks?: RollbackOutcome[];
    }
  | ReconcileFailure;

/** One HelmRelease of the set: rendered and applied with the rest, or left out because it failed. */
export interface ReleaseOutcome {
  apiVersion: string;
  namespace: string;
  name: string;
  file: string;
  document: number;
  /** spec.serviceAccountName: the release's objects and valuesFrom act as it. */
  serviceAccountName?: string;
  /** Its spec's digest: a changed spec is a new attempt, not a retry. */
  specDigest?: string;
  /** Why it is not deployed as Git says; see ReleaseFailure. */
  failure?: ReleaseFailure;
  /** How it is deployed (Flux v1 wait, timeout, tests, rollback); unset when its spec did not read. */
  options?: ReleaseOptions;
  /** Helm's release name; unset when the HelmRelease's spec did not read. */
  releaseName?: string;
  /** The chart and values it rendered with: a row of the release's history. */
  chart?: { name: string; version: string };
  valuesDigest?: string;
  /** Whether any of its objects changed in this reconcile (its decisions list it then). */
  changed?: boolean;
}

/** What rolling one HelmRelease back wrote (its decision lists it). */
export interface RollbackOutcome {
  namespace: string;
  name: string;
  changeSet: ChangeSetEntry[];
}

export interface ReleaseFailure {
  message: string;
  /** A machine-readable reason when there is one (a tenancy refusal). */
  reason?: string;
  /** Only a new commit can fix it (a bad spec, a missing chart), as opposed to a network's fault. */
  terminal: boolean;
  /** Not attempted this time: waiting out its own retry backoff (or held after a rollback). */
  deferred?: boolean;
  /**
   * Where it failed: rendering (the chart or values), or deploying (its objects not healthy within
   * its timeout, its tests failing), after which a rollback may have run.
   */
  stage?: 'render' | 'wait' | 'test';
  /** The Git revision a failed upgrade was rolled back to. */
  rolledBackTo?: string;
  /** The rollback itself failed (or there was nothing to roll back to): this says why. */
  rollbackFailure?: string;
}

/** One thing that went wrong, named as precisely as it is known. */
export interface FailureDetail {
  object?: string;
  file?: string;
  document?: number;
  message: string;
}

export interface ReconcileFailure {
  kind: 'failed';
  reason: FailureReason;
  message: string;
  failures: FailureDetail[];
  /**
   * What a staged apply wrote before a later stage failed (Namespaces, CRDs): the failed decision
   * lists them, and the inventory keeps them so a revert prunes them.
   */
  written?: ChangeSetEntry[];
  /** Tenancy refusals: which policy and rule refused what (the decision's evidence names them). */
  refusals?: TenancyRefusal[];
}

/** Retrying cannot fix a bad commit; it can fix a network blip. kstatus calls the former Stalled. */
export function isTerminal(reason: FailureReason): boolean {
  switch (reason) {
    case 'BuildFailed':
    case 'ValidationFailed':
    case 'ApplyFailed':
    case 'HookFailed':
    case 'CommitNotVerified':
    case 'CrossNamespaceRefNotAllowed':
    case 'TenancyPolicyDenied':
      return true;
    case 'ArtifactFailed':
    case 'Quarantined':
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
