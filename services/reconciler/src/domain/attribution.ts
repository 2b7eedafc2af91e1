import { createHash } from 'node:crypto';
import type { ChangeSetEntry } from '@capstan/events';
import { canonicalJson, groupOf, type KubeObject } from '@capstan/gitops-core';

/** Rendered objects of one commit: object key -> digest of its rendered form. */
export type RenderedForms = ReadonlyMap<string, string>;

/** `group/Kind/namespace/name` of a rendered object, its namespace resolved as the applier would. */
export function formKey(o: { apiVersion: string; kind: string; namespace: string; name: string }): string {
  return `${groupOf(o.apiVersion)}/${o.kind}/${o.namespace}/${o.name}`;
}

/** Rendered objects keyed and digested; `namespaceOf` resolves what the manifest leaves out. */
export function renderedForms(
  objects: readonly KubeObject[],
  namespaceOf: (o: KubeObject) => string,
): Map<string, string> {
  const forms = new Map<string, string>();
  for (const o of objects) {
    const key = formKey({
      apiVersion: o.apiVersion,
      kind: o.kind,
      namespace: namespaceOf(o),
      name: o.metadata.name,
    });
    forms.set(key, createHash('sha256').update(canonicalJson(o)).digest('hex'));
  }
  return forms;
}

/**
 * Which commit each changed object's change belongs to: the last commit, among those between the
 * last applied revision (`before`) and the new one (`commits`, oldest first, the new one last),
 * that changed the object's rendered form. An object whose form no commit changed (the live
 * object had drifted) is the newest commit's doing. Returns, per change set entry, the index of
 * its commit. Pure.
 */
export function creditChanges(
  before: RenderedForms | undefined,
  commits: readonly (RenderedForms | undefined)[],
  changed: readonly ChangeSetEntry[],
): number[] {
  const newest = commits.length - 1;
  return changed.map((entry) => {
    for (let i = newest; i >= 0; i--) {
      const own = formOf(commits[i], entry);
      if (own === null) continue;
      // The form before commit i: the nearest earlier commit that rendered, else `before`.
      let previous: string | undefined | null = null;
      for (let j = i - 1; j >= 0 && previous === null; j--) previous = formOf(commits[j], entry);
      if (previous === null) previous = formOf(before, entry);
      if (own !== previous) return i;
    }
    return newest;
  });
}

/**
 * When more commits arrived than attribution walks, the walk starts after `boundary` (the parent
 * of the oldest commit walked) instead of at the last applied revision (`last`). Whether an
 * entry's rendered form changed between the two, i.e. in a commit beyond the window, whose
 * author is not known without walking further. Pure.
 */
export function changedBeyondWindow(
  last: RenderedForms | undefined,
  boundary: RenderedForms | undefined,
  entry: ChangeSetEntry,
): boolean {
  const before = formOf(last, entry);
  const after = formOf(boundary, entry);
  return before !== null && after !== null && before !== after;
}

/** The digest of an entry's object in one commit's forms; undefined when absent, null when that commit did not render (no evidence). */
function formOf(forms: RenderedForms | undefined, entry: ChangeSetEntry): string | undefined | null {
  if (!forms) return null;
  for (const k of [formKey(entry), formKey({ ...entry, namespace: '' })])
    if (forms.has(k)) return forms.get(k);
  return undefined;
}
