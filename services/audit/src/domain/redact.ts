import { createHash } from 'node:crypto';
import { canonicalJson } from './chain.js';
import type { JsonValue } from './decision-record.js';

/**
 * Key names whose values are treated as secrets wherever they appear. Deliberately broad
 * (`key` catches `apiKey`, `privateKey`, `sshKey`): a digest of a harmless value costs little,
 * a leaked credential in an append-only, hash-chained log can never be removed.
 */
export const SENSITIVE_KEY = /password|passwd|token|secret|key|credential/i;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * `sha256:<hex>` of a value: strings are hashed as UTF-8, anything else as canonical JSON.
 * Equal secrets give equal digests, so "did the password change?" stays answerable.
 */
export function digestOf(value: JsonValue): string {
  if (typeof value === 'string' && DIGEST.test(value)) return value;
  const text = typeof value === 'string' ? value : canonicalJson(value);
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/** Replaces every leaf under `value` by its digest, keeping the shape (which keys a Secret has). */
function digestLeaves(value: JsonValue): JsonValue {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(digestLeaves);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, digestLeaves(v)]));
  }
  return digestOf(value);
}

const isSecretObject = (o: { [key: string]: JsonValue }) =>
  o['kind'] === 'Secret' && (o['apiVersion'] === undefined || o['apiVersion'] === 'v1');

/**
 * What the audit log may keep of change sets and evidence: the same structure with secret values
 * replaced by digests. Secret values are
 * - `data` and `stringData` of anything shaped like a Kubernetes Secret (`kind: Secret`);
 * - every member but `name` of an entry marked `sensitive: true` (evidence entries like
 *   `{name: 'db-password', value: '...', sensitive: true}`);
 * - the value of any key matching SENSITIVE_KEY, at any depth.
 * Pure and idempotent: digests are left as they are.
 */
export function redactSecrets(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(redactSecrets);
  const secret = isSecretObject(value);
  const sensitive = value['sensitive'] === true;
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(value)) {
    if ((secret && (k === 'data' || k === 'stringData')) || SENSITIVE_KEY.test(k)) out[k] = digestLeaves(v);
    else if (sensitive && k !== 'name' && k !== 'sensitive') out[k] = digestLeaves(v);
    else out[k] = redactSecrets(v);
  }
  return out;
}
