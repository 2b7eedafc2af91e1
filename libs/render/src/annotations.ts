import { inventoryId, reconcileMode, type KubeObject, type SourcedObject } from '@capstan/gitops-core';

export type ObjectPolicy = 'apply' | 'skip' | 'apply-never-prune';

/**
 * `fluxcd.io/ignore: "true"` and `capstan.dev/reconcile: disabled` leave the object alone
 * entirely; `fluxcd.io/ignore: sync_only` applies it but never deletes it. The reading of the
 * annotations is gitops-core's, shared with prune and drift.
 */
export function policyOf(object: KubeObject): ObjectPolicy {
  switch (reconcileMode(object)) {
    case 'ignored':
      return 'skip';
    case 'sync-only':
      return 'apply-never-prune';
    case 'managed':
      return 'apply';
  }
}

export interface PolicySplit {
  objects: SourcedObject[];
  skipped: SourcedObject[];
  /** Inventory ids of applied objects that prune must leave in the cluster. */
  neverPrune: Set<string>;
  /** Inventory ids of the skipped objects: never applied, and never pruned either. */
  ignored: Set<string>;
}

/**
 * Splits a rendered set by the per-object annotations. `idOf` gives the id the object will have
 * once applied (namespace defaulted), so it matches the Sync's inventory.
 */
export function splitByPolicy(
  objects: readonly SourcedObject[],
  idOf: (o: KubeObject) => string = inventoryId,
): PolicySplit {
  const out: PolicySplit = { objects: [], skipped: [], neverPrune: new Set(), ignored: new Set() };
  for (const s of objects) {
    const policy = policyOf(s.object);
    if (policy === 'skip') {
      out.skipped.push(s);
      out.ignored.add(idOf(s.object));
    } else {
      out.objects.push(s);
      if (policy === 'apply-never-prune') out.neverPrune.add(idOf(s.object));
    }
  }
  return out;
}

/**
 * Ids that prune must never delete: skipped objects (Git says "hands off") and sync_only ones.
 * An object applied by an earlier commit and now annotated ignore stays in the cluster.
 */
export function protectedIds(result: {
  ignored: ReadonlySet<string>;
  neverPrune: ReadonlySet<string>;
}): Set<string> {
  return new Set([...result.neverPrune, ...result.ignored]);
}
