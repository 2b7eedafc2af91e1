import type { KubeObject } from './objects.js';

/** Asks the reconciler to reconcile a Sync now; the value (a timestamp) is echoed in status when handled. */
export const RECONCILE_REQUESTED_AT = 'capstan.dev/reconcile-requested-at';
/** `disabled`: Capstan neither applies nor prunes the object. */
export const RECONCILE_ANNOTATION = 'capstan.dev/reconcile';
/** `enabled`: an immutable-field change recreates the object even when the Sync has no `force`. */
export const FORCE_ANNOTATION = 'capstan.dev/force';
/** Flux v1 opt-out, honoured for migrations: `"true"` (skip sync and prune) or `sync_only` (never prune). */
export const FLUX_IGNORE_ANNOTATION = 'fluxcd.io/ignore';

/** What Capstan may do with one object: everything, apply but never delete, or nothing. */
export type ReconcileMode = 'managed' | 'sync-only' | 'ignored';

export function reconcileMode(o: { metadata?: { annotations?: Record<string, unknown> } }): ReconcileMode {
  const a = o.metadata?.annotations ?? {};
  if (text(a[RECONCILE_ANNOTATION]) === 'disabled') return 'ignored';
  const flux = text(a[FLUX_IGNORE_ANNOTATION]);
  if (flux === 'true') return 'ignored';
  if (flux === 'sync_only') return 'sync-only';
  return 'managed';
}

export function forceEnabled(o: KubeObject): boolean {
  return text(o.metadata.annotations?.[FORCE_ANNOTATION]) === 'enabled';
}

/** Annotation values are strings, but YAML lets `true` through unquoted from hand-written objects. */
function text(v: unknown): string {
  return typeof v === 'string' || typeof v === 'boolean' ? String(v).toLowerCase() : '';
}

/**
 * The API server's ways of saying "this field cannot be changed in place": such a change needs
 * delete + create. Matched on the message because the status reason (Invalid) is shared with
 * ordinary validation errors.
 */
export function isImmutableFieldError(message: string): boolean {
  return /field is immutable|may not change once set|cannot change|updates to statefulset spec for fields other than|updates to .* are forbidden|field is not mutable/i.test(
    message,
  );
}
