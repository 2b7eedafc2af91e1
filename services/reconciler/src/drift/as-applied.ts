import type { ChangeSetEntry } from '@capstan/events';
import { groupOf, type KubeObject, type SourcedObject } from '@capstan/gitops-core';

/** `group/Kind/namespace/name`: the same for an object from Git and its live copy in any version. */
export function objectKey(o: { apiVersion: string; kind: string; namespace: string; name: string }): string {
  return `${groupOf(o.apiVersion)}/${o.kind}/${o.namespace}/${o.name}`;
}

/**
 * The objects exactly as the applier sent them: its labels added, and the namespace it
 * resolved (the change set has it: the default for namespaced objects, none for cluster-scoped).
 * Objects without a change set entry were not applied and are left out.
 */
export function asApplied(
  objects: readonly SourcedObject[],
  changeSet: readonly ChangeSetEntry[],
  labels: Record<string, string>,
): KubeObject[] {
  const applied: KubeObject[] = [];
  for (const { object } of objects) {
    const candidates = changeSet.filter((c) => same(c, object));
    // A cluster-scoped object keeps no namespace, even one written in Git by mistake.
    const entry =
      candidates.find((c) => c.namespace === (object.metadata.namespace ?? c.namespace)) ??
      candidates.find((c) => c.namespace === '');
    if (!entry || entry.action === 'failed' || entry.action === 'skipped') continue;
    const copy = structuredClone(object);
    copy.metadata.labels = { ...(copy.metadata.labels ?? {}), ...labels };
    if (entry.namespace === '') delete copy.metadata.namespace;
    else copy.metadata.namespace = entry.namespace;
    applied.push(copy);
  }
  return applied;
}

function same(c: ChangeSetEntry, o: KubeObject): boolean {
  return c.apiVersion === o.apiVersion && c.kind === o.kind && c.name === o.metadata.name;
}
