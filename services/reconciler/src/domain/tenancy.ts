import { crossNamespaceRefusal, type TenancyRefusal } from '@capstan/gitops-core';
import type { ServiceAccountRef, Sync } from '@capstan/kube';
import type { ReconcileFailure } from './outcome.js';

/**
 * Who a Sync acts as: its own spec.serviceAccountName, else the installation's default, always
 * in the Sync's namespace (a tenant can only name accounts of its own namespace). Undefined only
 * when neither is set: the reconciler's own identity.
 */
export function syncIdentity(
  sync: Sync,
  defaultServiceAccount: string | undefined,
): ServiceAccountRef | undefined {
  const name = sync.spec.serviceAccountName ?? defaultServiceAccount;
  return name ? { namespace: sync.metadata.namespace, name } : undefined;
}

/**
 * A Sync whose sourceRef or a dependsOn entry leaves its namespace, refused unless the
 * installation allows it. dependsOn counts too: waiting on another tenant's Sync reads its
 * readiness and revision, and lets a tenant hold its own deploys hostage to someone else's
 * (Flux's no-cross-namespace-refs covers dependsOn the same way).
 */
export function crossNamespaceRefsRefusal(
  sync: Sync,
  allowCrossNamespace: boolean,
): ReconcileFailure | undefined {
  const refs = [
    crossNamespaceRefusal(
      'spec.sourceRef',
      sync.metadata.namespace,
      sync.spec.sourceRef,
      allowCrossNamespace,
    ),
    ...(sync.spec.dependsOn ?? []).map((dep, i) =>
      crossNamespaceRefusal(
        `spec.dependsOn[${i}]`,
        sync.metadata.namespace,
        { kind: 'Sync', ...dep },
        allowCrossNamespace,
      ),
    ),
  ].filter((r) => r !== undefined);
  const first = refs[0];
  if (!first) return undefined;
  const message = refs.map((r) => r.message).join('; ');
  return {
    kind: 'failed',
    reason: first.reason,
    message,
    failures: refs.map((r) => ({ message: r.message })),
  };
}

/** TenancyPolicy refusals as the reconcile's failure: every refused object, and the rule. */
export function policyRefusal(refusals: readonly TenancyRefusal[]): ReconcileFailure | undefined {
  if (refusals.length === 0) return undefined;
  const shown = refusals.slice(0, 5).map((r) => r.message);
  const message = `${shown.join('; ')}${refusals.length > 5 ? ` and ${refusals.length - 5} more` : ''}`;
  return {
    kind: 'failed',
    reason: 'TenancyPolicyDenied',
    message,
    failures: refusals.map((r) => ({ ...(r.object ? { object: r.object } : {}), message: r.message })),
    refusals: [...refusals],
  };
}
