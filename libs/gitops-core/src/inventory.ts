import { compareForDelete } from './ordering.js';
import { inventoryId, type KubeObject } from './objects.js';

/** One inventory entry in Sync status: Flux's `<ns>_<name>_<group>_<Kind>` id plus the version. */
export interface InventoryEntry {
  id: string;
  v: string;
}

/** The object an inventory entry names (enough to read or delete it). */
export interface InventoryRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

export function versionOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
}

export function inventoryEntry(o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): InventoryEntry {
  return { id: inventoryId(o), v: versionOf(o.apiVersion) };
}

/** Parses an entry back into an object reference; Kubernetes names, namespaces and groups have no `_`. */
export function refOfEntry(entry: InventoryEntry): InventoryRef {
  const parts = entry.id.split('_');
  if (parts.length !== 4) throw new Error(`invalid inventory id "${entry.id}"`);
  const [namespace, name, group, kind] = parts as [string, string, string, string];
  return {
    apiVersion: group ? `${group}/${entry.v}` : entry.v,
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
  };
}

/**
 * Objects of the previous inventory that the new set no longer has, in deletion order (the
 * reverse of apply order). Matching ignores the version: moving from v1beta1 to v1 is no removal.
 */
export function staleObjects(
  previous: readonly InventoryEntry[],
  next: readonly InventoryEntry[],
): InventoryRef[] {
  const keep = new Set(next.map((e) => e.id));
  return previous
    .filter((e) => !keep.has(e.id))
    .map(refOfEntry)
    .sort((a, b) => compareForDelete(a as KubeObject, b as KubeObject));
}
