/**
 * Whether a JSON merge patch (RFC 7396, what status writes send) would change `target`: a key
 * set to null removes it, an object merges key by key, anything else (arrays included) replaces.
 * A reconcile that finds nothing new computes the status the Sync already has; sending it would
 * cost the API server a request (and every replica's watch an event) for nothing.
 */
export function mergePatchChanges(target: unknown, patch: unknown): boolean {
  if (!isPlainObject(patch)) return !deepEqual(target, patch);
  const base = isPlainObject(target) ? target : undefined;
  if (!base) return true;
  return Object.entries(patch).some(([key, value]) =>
    // undefined is not sent at all (JSON); null removes the key.
    value === undefined
      ? false
      : value === null
        ? Object.hasOwn(base, key)
        : mergePatchChanges(base[key], value),
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
