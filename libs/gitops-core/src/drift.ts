import { stableId } from '@capstan/events';
import type { KubeObject } from './objects.js';
import { fieldPath, isSensitiveField, REDACTED } from './secret-redaction.js';

/** One entry of `metadata.managedFields`, as the API server writes it. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

/** A live object as read or watched from the API server (raw JSON, not client models). */
export interface WatchedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    managedFields?: ManagedFieldsEntry[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** One field Capstan set that someone else changed. */
export interface FieldDrift {
  /**
   * The field holds a secret value (a Secret's data, a field marked `capstan.dev/sensitive`):
   * `desired` and `live` are then masked, so a drift report never carries the value.
   */
  sensitive?: true;
  /**
   * For a sensitive field, a digest of the live value: only to tell one hidden value from the
   * next in memory (a second change by hand is a new drift). Never published or logged.
   */
  liveDigest?: string;
  /** Dotted path: `spec.replicas`, `spec.template.spec.containers[name=web].image`. */
  path: string;
  /** What Capstan applied. */
  desired: unknown;
  /** What is live now; undefined when the field is gone. */
  live: unknown;
  /** The field manager that now owns the field, or that last wrote when nobody owns it; null if unknown. */
  manager: string | null;
}

export interface CompareOptions {
  /** Capstan's server-side apply field manager. */
  manager: string;
  /** When `desired` became the desired state (the reconcile that applied it). */
  desiredSince?: Date;
}

interface Owner {
  manager: string;
  ours: boolean;
  time: string;
  node: unknown;
}

type Path = { text: string; owners: Owner[] };

/**
 * Which fields of `desired` (what Capstan last applied) no longer hold in `live`.
 *
 * Only fields Capstan applied are compared, so fields other managers own (a label added by hand,
 * a controller's annotations) and `status` are never drift. A differing value still owned by
 * Capstan alone is the API server's own normalization (`0.5` CPU read back as `500m`), not
 * drift: any real change by someone else moves ownership of the field to that manager, which
 * `metadata.managedFields` records, or removes the field. Secret values are masked in what it
 * returns (see secret-redaction.ts): a drift report says which key changed, never to what.
 */
export function compareOwned(
  desired: KubeObject,
  live: WatchedObject,
  options: CompareOptions,
): FieldDrift[] {
  const owners: Owner[] = (live.metadata?.managedFields ?? [])
    // Status writes never touch what Capstan applies; scale and other subresources can.
    .filter((e) => e.subresource !== 'status' && e.fieldsType !== undefined && e.fieldsV1 !== undefined)
    .map((e) => ({
      manager: e.manager ?? '',
      ours: e.manager === options.manager && e.operation === 'Apply',
      time: e.time ?? '',
      node: e.fieldsV1,
    }));
  const drifts: FieldDrift[] = [];
  const lastWriter = latestOther(owners);
  const ourLastWrite = owners.filter((o) => o.ours).reduce((t, o) => (o.time > t ? o.time : t), '');
  // A field nobody owns was removed by its last writer. If that may have been Capstan (a newer
  // reconcile dropping it from Git, applied before this `desired` was replaced), it is not drift:
  // managedFields times have one-second resolution, so only a write of ours older than the
  // second `desired` was applied in, or another manager's at or after ours, decides.
  const removedByOthers =
    ourLastWrite === '' ||
    (lastWriter !== undefined && lastWriter.time >= ourLastWrite) ||
    (options.desiredSince !== undefined && ourLastWrite < wholeSecond(options.desiredSince));
  const visit = (d: unknown, l: unknown, path: Path): void => {
    if (isPlainObject(d) && Object.keys(d).length > 0) {
      const liveMap = isPlainObject(l) ? l : undefined;
      for (const [key, value] of Object.entries(d))
        visit(value, liveMap?.[key], child(path, `f:${key}`, fieldText(path.text, key)));
      return;
    }
    if (Array.isArray(d) && d.length > 0 && Array.isArray(l) && visitList(d, l, path)) return;
    if (deepEqual(d, l)) return;
    const current = path.owners.filter((o) => o.node !== undefined);
    if (current.length > 0 && current.every((o) => o.ours)) return; // normalization, see above
    const others = current.filter((o) => !o.ours);
    if (others.length === 0 && !removedByOthers) return;
    const manager = (others.length > 0 ? latestOther(others) : lastWriter)?.manager ?? null;
    if (isSensitiveField(desired, path.text))
      drifts.push({
        path: path.text,
        desired: d === undefined ? d : REDACTED,
        live: l === undefined ? l : REDACTED,
        manager,
        sensitive: true,
        ...(l === undefined ? {} : { liveDigest: stableId('live', JSON.stringify(l)) }),
      });
    else drifts.push({ path: path.text, desired: d, live: l, manager });
  };

  /** Associative lists (containers by name, ports by port and protocol) item by item; false if not one. */
  const visitList = (d: unknown[], l: unknown[], path: Path): boolean => {
    const keys = listKeys(path.owners);
    if (keys.length === 0) return false;
    for (const item of d) {
      if (!isPlainObject(item)) return false;
      const key = keys.find((k) => matchesKey(item, k.fields, true));
      const match = key
        ? l.find((x) => isPlainObject(x) && matchesKey(x, key.fields, false))
        : l.find((x) => isPlainObject(x) && 'name' in item && x['name'] === item['name']);
      const label = key ? keyText(key.fields) : `name=${String(item['name'])}`;
      visit(item, match, child(path, key?.raw ?? '', `${path.text}[${label}]`));
    }
    return true;
  };

  const top = { text: '', owners };
  for (const [key, value] of Object.entries(desired)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'status') continue;
    if (key === 'metadata') {
      // Identity (name, namespace) cannot drift; labels and annotations can.
      const meta = child(top, 'f:metadata', 'metadata');
      for (const m of ['labels', 'annotations'] as const) {
        const want = desired.metadata[m];
        if (want !== undefined) visit(want, live.metadata?.[m], child(meta, `f:${m}`, `metadata.${m}`));
      }
      continue;
    }
    visit(value, live[key], child(top, `f:${key}`, key));
  }
  return drifts;
}

/** Keys of an associative list, from any manager's `k:{...}` entries at this position. */
function listKeys(owners: readonly Owner[]): { raw: string; fields: Record<string, unknown> }[] {
  const seen = new Map<string, Record<string, unknown>>();
  for (const o of owners) {
    if (!isPlainObject(o.node)) continue;
    for (const k of Object.keys(o.node)) {
      if (!k.startsWith('k:') || seen.has(k)) continue;
      try {
        const fields: unknown = JSON.parse(k.slice(2));
        if (isPlainObject(fields)) seen.set(k, fields);
      } catch {
        // A key we cannot read only loses precision: the list is then compared as a whole.
      }
    }
  }
  return [...seen].map(([raw, fields]) => ({ raw, fields }));
}

/**
 * Whether an item has these key values. In Git, key fields the API server defaults (a port's
 * `protocol: TCP`) may be absent, so a desired item matches when the fields it names agree.
 */
function matchesKey(
  item: Record<string, unknown>,
  fields: Record<string, unknown>,
  lenient: boolean,
): boolean {
  let named = 0;
  for (const [f, v] of Object.entries(fields)) {
    if (!(f in item)) {
      if (lenient) continue;
      return false;
    }
    if (!deepEqual(item[f], v)) return false;
    named++;
  }
  return named > 0;
}

function child(path: Path, key: string, text: string): Path {
  return {
    text,
    // `{}` is a field owned as a whole (a leaf or an atomic struct/list): its insides are owned too.
    owners: path.owners.map((o) => ({
      ...o,
      node: isPlainObject(o.node) ? (Object.keys(o.node).length === 0 ? o.node : o.node[key]) : undefined,
    })),
  };
}

function fieldText(parent: string, key: string): string {
  const part = fieldPath([key]);
  if (parent === '') return part;
  return part.startsWith('[') ? `${parent}${part}` : `${parent}.${part}`;
}

function keyText(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(',');
}

function latestOther(owners: readonly Owner[]): Owner | undefined {
  let best: Owner | undefined;
  for (const o of owners) if (!o.ours && (!best || o.time > best.time)) best = o;
  return best;
}

/** `2026-01-02T03:04:05Z`, the form and resolution of managedFields times. */
function wholeSecond(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}
