export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot canonicalize ${path || 'value'}: ${reason}`);
    this.name = 'CanonicalJsonError';
  }
}

/**
 * Deterministic JSON in the spirit of RFC 8785 (JCS): object keys sorted by UTF-16 code units,
 * no whitespace, primitives as JSON.stringify writes them. `undefined` members are dropped and
 * non-finite numbers become null, as JSON.stringify does, because that is also what reaches jsonb:
 * the value that comes back from the database must canonicalize to the same string.
 *
 * Every decision ingested and every one verified goes through here, so the walk keeps no path:
 * when a value cannot be written, it is walked again by `failure`, which names where.
 */
export function canonicalJson(value: unknown, path = ''): string {
  try {
    return write(value);
  } catch (e) {
    if (e instanceof NotJson) throw failure(value, path);
    throw e;
  }
}

/** Thrown inside the fast walk; turned into a CanonicalJsonError with its path by canonicalJson. */
class NotJson extends Error {}

/** JSON-escaped keys: the same few (kind, name, apiVersion...) come back in every decision. */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 10_000;

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function write(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return writeArray(v as unknown[]);
      if (v instanceof Date) return JSON.stringify(v.toISOString());
      return writeObject(v as Record<string, unknown>);
    }
    case 'bigint':
    case 'symbol':
    case 'function':
    case 'undefined':
      throw new NotJson();
  }
  // typeof has no other results; TypeScript just cannot see that the switch is exhaustive.
  throw new NotJson();
}

function writeArray(items: readonly unknown[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (i > 0) out += ',';
    out += item === undefined || typeof item === 'function' ? 'null' : write(item);
  }
  return `${out}]`;
}

function writeObject(record: Record<string, unknown>): string {
  // Default sort: by UTF-16 code units, as JCS asks.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const k of keys) {
    const member = record[k];
    if (member === undefined || typeof member === 'function') continue;
    out += `${out.length > 1 ? ',' : ''}${quoteKey(k)}:${write(member)}`;
  }
  return `${out}}`;
}

/** The error for a value `write` refused: the first member JSON cannot carry, with its path. */
function failure(value: unknown, path: string): CanonicalJsonError {
  const at = (v: unknown, here: string): CanonicalJsonError | undefined => {
    switch (typeof v) {
      case 'bigint':
      case 'symbol':
      case 'function':
      case 'undefined':
        return new CanonicalJsonError(here, `${typeof v} is not JSON`);
      case 'object': {
        if (v === null || v instanceof Date) return undefined;
        if (Array.isArray(v)) {
          for (const [i, item] of (v as unknown[]).entries()) {
            if (item === undefined || typeof item === 'function') continue;
            const found = at(item, `${here}[${i}]`);
            if (found) return found;
          }
          return undefined;
        }
        for (const k of Object.keys(v).sort()) {
          const member = (v as Record<string, unknown>)[k];
          if (member === undefined || typeof member === 'function') continue;
          const found = at(member, here ? `${here}.${k}` : k);
          if (found) return found;
        }
        return undefined;
      }
      case 'string':
      case 'number':
      case 'boolean':
        return undefined;
    }
    return undefined;
  };
  return at(value, path) ?? new CanonicalJsonError(path, 'unknown type');
}
