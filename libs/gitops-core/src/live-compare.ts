/**
 * Whether a server-side dry-run result differs from the live object. Fields the API server
 * rewrites on every write (managedFields, resourceVersion, generation, timestamps) and status
 * (owned by controllers, changing under our feet) are not part of the desired state.
 */
export function differsFromLive(dryRun: unknown, live: unknown): boolean {
  return !deepEqual(comparable(dryRun), comparable(live));
}

const VOLATILE_METADATA = ['managedFields', 'resourceVersion', 'generation', 'creationTimestamp', 'uid'];

export function comparable(o: unknown): unknown {
  if (typeof o !== 'object' || o === null) return o;
  const copy = { ...(o as Record<string, unknown>) };
  delete copy['status'];
  const meta = copy['metadata'];
  if (typeof meta === 'object' && meta !== null) {
    copy['metadata'] = Object.fromEntries(
      Object.entries(meta as Record<string, unknown>).filter(([k]) => !VOLATILE_METADATA.includes(k)),
    );
  }
  return copy;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual(ra[k], rb[k]));
}
