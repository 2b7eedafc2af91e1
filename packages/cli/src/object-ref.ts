export interface ObjectPath {
  namespace: string;
  kind: string;
  name: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * `namespace/Kind/name`, or `Kind/name` for a cluster-scoped object. Kind is kept as typed;
 * the API matches it case-insensitively.
 */
export function parseObjectPath(text: string): ObjectPath {
  const parts = text.split('/');
  if (parts.some((p) => p === ''))
    throw new UsageError(`"${text}": empty segment; expected <namespace>/<kind>/<name> or <kind>/<name>`);
  if (parts.length === 3) return { namespace: parts[0] ?? '', kind: parts[1] ?? '', name: parts[2] ?? '' };
  if (parts.length === 2) return { namespace: '_', kind: parts[0] ?? '', name: parts[1] ?? '' };
  throw new UsageError(`"${text}": expected <namespace>/<kind>/<name> or <kind>/<name>`);
}
