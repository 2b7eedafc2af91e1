import type { Condition } from '@capstan/gitops-core';

/** What the reconciler knows about one Sync this Sync depends on. */
export interface DependencyState {
  ref: string;
  found: boolean;
  generation?: number;
  observedGeneration?: number;
  conditions?: readonly Condition[];
  lastAppliedRevision?: string;
  /** The revision the dependency's own source now offers; undefined when it has none yet. */
  sourceRevision?: string;
}

/**
 * Why a dependency is not ready yet, or undefined when it is. Flux semantics: Ready=True for
 * its current generation and applied at its own source's latest revision, so a dependent never
 * runs ahead of what it depends on.
 */
export function dependencyBlocker(d: DependencyState): string | undefined {
  if (!d.found) return `dependency '${d.ref}' not found`;
  if (d.generation !== undefined && d.observedGeneration !== d.generation)
    return `dependency '${d.ref}' is not reconciled at generation ${d.generation} yet`;
  const ready = d.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return `dependency '${d.ref}' is not ready`;
  if (d.sourceRevision !== undefined && d.lastAppliedRevision !== d.sourceRevision)
    return `dependency '${d.ref}' is not at its latest revision ${d.sourceRevision} yet`;
  return undefined;
}
