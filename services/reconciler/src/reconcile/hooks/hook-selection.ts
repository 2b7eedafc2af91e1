import type { SourcedObject } from '@capstan/gitops-core';
import type { HookEvent, HookObject } from '@capstan/render';

/** What a reconcile does to one Helm release: Helm's install and upgrade, or nothing at all. */
export type ReleasePhase = 'install' | 'upgrade' | 'unchanged';

type PlannedAction = 'created' | 'configured' | 'unchanged' | 'skipped' | 'recreated' | 'deferred';

/**
 * Objects rendered from one HelmRelease share its file and document (and name their chart
 * template); that pair identifies the release within a Sync. Undefined for non-Helm objects.
 */
export function releaseKeyOf(s: SourcedObject & { origin: { template?: string } }): string | undefined {
  return s.origin.template === undefined ? undefined : `${s.origin.file}#${s.origin.document}`;
}

/**
 * Per release, from the dry-run plan of its objects: every object new means an install, any
 * object changing means an upgrade, nothing changing means Helm would not upgrade, so no hooks
 * run (a GitOps reconcile repeats every interval; a migration Job must not).
 */
export function releasePhases(
  planned: readonly { item: SourcedObject & { origin: { template?: string } }; action: PlannedAction }[],
): Map<string, ReleasePhase> {
  const byRelease = new Map<string, PlannedAction[]>();
  for (const p of planned) {
    const key = releaseKeyOf(p.item);
    if (key === undefined || p.action === 'skipped') continue;
    byRelease.set(key, [...(byRelease.get(key) ?? []), p.action]);
  }
  const phases = new Map<string, ReleasePhase>();
  for (const [key, actions] of byRelease) {
    if (actions.every((a) => a === 'created' || a === 'deferred')) phases.set(key, 'install');
    else if (actions.some((a) => a !== 'unchanged')) phases.set(key, 'upgrade');
    else phases.set(key, 'unchanged');
  }
  return phases;
}

/** The hooks of `when` that this reconcile runs, in the given (weight) order. */
export function hooksToRun(
  hooks: readonly HookObject[],
  when: 'pre' | 'post',
  phases: ReadonlyMap<string, ReleasePhase>,
): HookObject[] {
  return hooks.filter((h) => {
    const phase = phases.get(releaseKeyOf(h) ?? '');
    if (phase === undefined || phase === 'unchanged') return false;
    return h.hook.events.includes(`${when}-${phase}` as HookEvent);
  });
}
