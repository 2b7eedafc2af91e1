import { withoutCredentials } from './url-credentials.js';

/**
 * Secret values never leave the cluster through Capstan. Everything Capstan reports (drift
 * evidence and decisions, change sets, messages, `capstan diff`, logs) goes through this module:
 * one rule for what is secret, applied everywhere.
 *
 * Secret values are, by kind:
 * - `data` and `stringData` of a `v1` Secret;
 * - the fields an object marks with the annotation `capstan.dev/sensitive`: `"true"` marks every
 *   field but `apiVersion`, `kind`, `metadata` and `status`; otherwise it lists dot-separated field
 *   paths from the top of the object, comma-separated (`data.DATABASE_URL, spec.values.db`);
 * - `kubectl.kubernetes.io/last-applied-configuration` of an object holding secret values (it is
 *   a copy of them);
 * - in evidence (not inside Kubernetes objects), every member but `name` of an entry marked
 *   `sensitive: true`, and the value of any key naming a secret (`password`, `apiToken`...).
 *
 * Values are replaced by a fixed mask, never by a digest: a digest of a short password is the
 * password to anyone with a dictionary, and the audit log keeps what it is given forever.
 */
export const SENSITIVE_ANNOTATION = 'capstan.dev/sensitive';
export const REDACTED = '(redacted)';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Key names whose values are secrets wherever they appear in evidence (not in Kubernetes objects). */
export const SENSITIVE_KEY = /password|passwd|token|secret|key|credential/i;

/** Known secret values shorter than this are not searched for in free text: `"1"` is everywhere. */
export const MIN_SCRUBBED_LENGTH = 4;

type Json = unknown;
type Path = readonly string[];

/** The field paths of a Kubernetes object that hold secret values. Pure. */
export function sensitivePaths(object: unknown): Path[] {
  if (!isRecord(object) || typeof object['kind'] !== 'string') return [];
  const paths: Path[] = [];
  if (isSecretKind(object)) paths.push(['data'], ['stringData']);
  const marked = annotationsOf(object)?.[SENSITIVE_ANNOTATION];
  if (typeof marked === 'string') {
    if (marked.trim().toLowerCase() === 'true') {
      for (const key of Object.keys(object))
        if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) paths.push([key]);
    } else
      for (const p of marked.split(',')) {
        const segments = p
          .trim()
          .split('.')
          .filter((s) => s !== '');
        if (segments.length > 0) paths.push(segments);
      }
  }
  if (paths.length > 0) paths.push(['metadata', 'annotations', LAST_APPLIED]);
  return paths;
}

/**
 * Whether a field of `object`, as `compareOwned` names it (`data.password`,
 * `spec.template.spec.containers[name=web].image`, `metadata.annotations["a/b"]`), is secret.
 */
export function isSensitiveField(object: unknown, field: string): boolean {
  return sensitivePaths(object).some((p) => {
    const prefix = fieldPath(p);
    return field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`);
  });
}

/** Field path text: `spec.replicas`, `metadata.annotations["capstan.dev/x"]`. */
export function fieldPath(segments: readonly string[]): string {
  let text = '';
  for (const key of segments) {
    const part = /^[A-Za-z0-9_-]+$/.test(key) ? key : `[${JSON.stringify(key)}]`;
    text = text === '' ? part : part.startsWith('[') ? `${text}${part}` : `${text}.${part}`;
  }
  return text;
}

/**
 * Every secret value of these objects as it may be quoted in a message (an API server's
 * `Invalid value: "..."`, a hook's output): a Secret's `data` both base64 and decoded, its
 * `stringData`, every string under a sensitive path. Feed it to `redactSecrets` for messages.
 */
export function secretValuesOf(objects: readonly unknown[]): string[] {
  const values = new Set<string>();
  const add = (s: string) => {
    if (s.length >= MIN_SCRUBBED_LENGTH) values.add(s);
  };
  for (const object of objects) {
    const secret = isSecretKind(object);
    for (const path of sensitivePaths(object)) {
      const base64 = secret && path.length === 1 && path[0] === 'data';
      for (const leaf of leavesOf(at(object, path))) {
        add(leaf);
        if (base64) add(Buffer.from(leaf, 'base64').toString('utf8'));
      }
    }
  }
  // Longest first, so a value containing another is masked whole.
  return [...values].sort((a, b) => b.length - a.length);
}

/**
 * The one redaction: `value` (an event payload, evidence, a change set, a list of objects, a
 * message) with every secret value masked, wherever it sits: Kubernetes objects by their kind
 * and `capstan.dev/sensitive`, evidence entries marked `sensitive` or keyed by a secret's name,
 * any string quoting one of `known` (from `secretValuesOf`), and credentials in any URL. Pure,
 * idempotent, and it never changes the shape (a Secret keeps its keys).
 */
export function redactSecrets<T>(value: T, known: readonly string[] = []): T {
  return walk(value, known, false) as T;
}

/**
 * Two versions of one object for a diff, secret values masked, each mask marked where the value
 * differs: the diff then says which key changed and never what it holds. Pure.
 */
export function redactPair<T>(before: T | undefined, after: T | undefined): { before?: T; after?: T } {
  const paths = [...sensitivePaths(before), ...sensitivePaths(after)];
  const mask = (o: T | undefined, other: T | undefined, label: string): T | undefined => {
    if (o === undefined) return undefined;
    const copy = structuredClone(o) as Json;
    for (const path of paths) {
      const mine = at(o, path);
      if (mine === undefined) continue;
      const theirs = at(other, path);
      set(
        copy,
        path,
        maskLeaves(mine, theirs, (same) => (same ? REDACTED : `${REDACTED} (${label})`)),
      );
    }
    return copy as T;
  };
  const b = mask(before, after, 'before');
  const a = mask(after, before, 'after');
  return { ...(b === undefined ? {} : { before: b }), ...(a === undefined ? {} : { after: a }) };
}

function walk(value: Json, known: readonly string[], inObject: boolean): Json {
  if (typeof value === 'string') return scrub(value, known);
  if (Array.isArray(value)) return value.map((v) => walk(v, known, inObject));
  if (!isRecord(value)) return value;
  const kube = isKubeObject(value);
  let source: Record<string, Json> = value;
  if (kube) {
    const copy = structuredClone(value);
    for (const path of sensitivePaths(value)) {
      const found = at(copy, path);
      if (found !== undefined)
        set(
          copy,
          path,
          maskLeaves(found, undefined, () => REDACTED),
        );
    }
    source = copy;
  }
  const inside = inObject || kube;
  const sensitive = !inside && value['sensitive'] === true;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(source)) {
    if (!inside && (SENSITIVE_KEY.test(k) || (sensitive && k !== 'name' && k !== 'sensitive')))
      out[k] = maskLeaves(v, undefined, () => REDACTED);
    else out[k] = walk(v, known, inside);
  }
  return out;
}

function scrub(text: string, known: readonly string[]): string {
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return withoutCredentials(out);
}

/** Every leaf replaced by a mask, keeping maps' keys and lists' lengths; null stays null. */
function maskLeaves(value: Json, other: Json, mask: (same: boolean) => string): Json {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value))
    return value.map((v, i) => maskLeaves(v, Array.isArray(other) ? other[i] : undefined, mask));
  if (isRecord(value))
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, maskLeaves(v, isRecord(other) ? other[k] : undefined, mask)]),
    );
  return mask(other === undefined || JSON.stringify(other) === JSON.stringify(value));
}

function leavesOf(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(leavesOf);
  if (isRecord(value)) return Object.values(value).flatMap(leavesOf);
  return [];
}

function at(value: Json, path: Path): Json {
  let cur = value;
  for (const key of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function set(value: Json, path: Path, replacement: Json): void {
  let cur = value;
  for (const key of path.slice(0, -1)) {
    if (!isRecord(cur)) return;
    cur = cur[key];
  }
  const last = path.at(-1);
  if (isRecord(cur) && last !== undefined && last in cur) cur[last] = replacement;
}

function isKubeObject(o: Record<string, Json>): boolean {
  return typeof o['kind'] === 'string' && (isRecord(o['metadata']) || typeof o['apiVersion'] === 'string');
}

function isSecretKind(o: unknown): boolean {
  return isRecord(o) && o['kind'] === 'Secret' && (o['apiVersion'] === undefined || o['apiVersion'] === 'v1');
}

function annotationsOf(o: Record<string, Json>): Record<string, Json> | undefined {
  const meta = o['metadata'];
  const annotations = isRecord(meta) ? meta['annotations'] : undefined;
  return isRecord(annotations) ? annotations : undefined;
}

/** A plain object (JSON's kind): a Date, Map or Error is left as it is. */
function isRecord(v: unknown): v is Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
