/**
 * The labels the reconciler stamps on every object it applies. Prune deletes only objects that
 * carry them for the Sync, and the drift watches select on the first. One place, because a
 * mismatch between the three would silently stop pruning or drift detection.
 */
export const SYNC_NAME_LABEL = 'capstan.dev/sync-name';
export const SYNC_NAMESPACE_LABEL = 'capstan.dev/sync-namespace';

export function ownerLabels(sync: { namespace: string; name: string }): Record<string, string> {
  return { [SYNC_NAME_LABEL]: sync.name, [SYNC_NAMESPACE_LABEL]: sync.namespace };
}
