export interface ObjectPath {
  namespace: string;
  kind: string;
  name: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** kubectl's short names, and Flux's `hr`, for the kinds people ask about. */
const SHORT_NAMES: Record<string, string> = {
  cm: 'ConfigMap',
  crd: 'CustomResourceDefinition',
  crds: 'CustomResourceDefinition',
  cj: 'CronJob',
  deploy: 'Deployment',
  ds: 'DaemonSet',
  hpa: 'HorizontalPodAutoscaler',
  hr: 'HelmRelease',
  ing: 'Ingress',
  netpol: 'NetworkPolicy',
  ns: 'Namespace',
  pdb: 'PodDisruptionBudget',
  po: 'Pod',
  pv: 'PersistentVolume',
  pvc: 'PersistentVolumeClaim',
  rs: 'ReplicaSet',
  sa: 'ServiceAccount',
  sts: 'StatefulSet',
  svc: 'Service',
};

/** Kinds whose spelling the CLI knows, so `deployment` and `DEPLOYMENT` mean `Deployment`. */
const KNOWN_KINDS = [
  ...new Set([
    ...Object.values(SHORT_NAMES),
    'Canary',
    'ClusterRole',
    'ClusterRoleBinding',
    'Endpoints',
    'GitRepository',
    'Job',
    'Role',
    'RoleBinding',
    'Secret',
    'Sync',
  ]),
];

/**
 * A kind as typed on the command line, in the API's spelling: short names (`deploy`, `hr`),
 * plural-free names in any case (`deployment`). A kind the CLI does not know is kept as typed;
 * the audit API matches kinds case-insensitively. Pure.
 */
export function canonicalKind(typed: string): string {
  const lower = typed.toLowerCase();
  const short = SHORT_NAMES[lower];
  if (short) return short;
  return KNOWN_KINDS.find((k) => k.toLowerCase() === lower || `${k.toLowerCase()}s` === lower) ?? typed;
}

/**
 * `namespace/Kind/name`, or `Kind/name` for a cluster-scoped object (or a HelmRelease in
 * `default`). Kind accepts short names and any case (see canonicalKind).
 */
export function parseObjectPath(text: string): ObjectPath {
  const parts = text.split('/');
  if (parts.some((p) => p === ''))
    throw new UsageError(`"${text}": empty segment; expected <namespace>/<kind>/<name> or <kind>/<name>`);
  if (parts.length === 3)
    return { namespace: parts[0] ?? '', kind: canonicalKind(parts[1] ?? ''), name: parts[2] ?? '' };
  if (parts.length === 2)
    return { namespace: '_', kind: canonicalKind(parts[0] ?? ''), name: parts[1] ?? '' };
  throw new UsageError(`"${text}": expected <namespace>/<kind>/<name> or <kind>/<name>`);
}
