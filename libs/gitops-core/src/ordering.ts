import type { KubeObject } from './objects.js';

/**
 * Apply stages. Definitions must exist (and CRDs be established) before anything that uses
 * them; admission webhooks go last so they cannot block the objects applied with them.
 */
export type ApplyStage = 'definitions' | 'classes' | 'resources' | 'webhooks';
export const STAGES: readonly ApplyStage[] = ['definitions', 'classes', 'resources', 'webhooks'];

const DEFINITIONS = new Set(['CustomResourceDefinition', 'Namespace']);
const CLASSES = new Set([
  'StorageClass',
  'IngressClass',
  'PriorityClass',
  'RuntimeClass',
  'GatewayClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'PodSecurityPolicy',
]);
const WEBHOOKS = new Set([
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

/** Within a stage, kinds that others depend on come first (the order Helm and Flux converge on). */
const KIND_ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'ResourceQuota',
  'LimitRange',
  'StorageClass',
  'IngressClass',
  'PriorityClass',
  'RuntimeClass',
  'GatewayClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Role',
  'RoleBinding',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicaSet',
  'Deployment',
  'StatefulSet',
  'HorizontalPodAutoscaler',
  'Job',
  'CronJob',
  'Ingress',
  'Gateway',
  'HTTPRoute',
  'APIService',
];
const rank = new Map(KIND_ORDER.map((k, i) => [k, i]));

export function stageOf(kind: string): ApplyStage {
  if (DEFINITIONS.has(kind)) return 'definitions';
  if (CLASSES.has(kind)) return 'classes';
  if (WEBHOOKS.has(kind)) return 'webhooks';
  return 'resources';
}

/** Stable sort: stage, then kind rank (unknown kinds after known ones, by name), then namespace, then name. */
export function compareForApply(a: KubeObject, b: KubeObject): number {
  return (
    STAGES.indexOf(stageOf(a.kind)) - STAGES.indexOf(stageOf(b.kind)) ||
    (rank.get(a.kind) ?? KIND_ORDER.length) - (rank.get(b.kind) ?? KIND_ORDER.length) ||
    a.kind.localeCompare(b.kind) ||
    (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}

/** Groups objects into stages in apply order; empty stages are left out. */
export function planStages<T extends { object: KubeObject }>(
  items: readonly T[],
): { stage: ApplyStage; items: T[] }[] {
  const sorted = [...items].sort((x, y) => compareForApply(x.object, y.object));
  return STAGES.map((stage) => ({
    stage,
    items: sorted.filter((i) => stageOf(i.object.kind) === stage),
  })).filter((s) => s.items.length > 0);
}

/** Deletion runs in the reverse of apply order, so dependents go before what they depend on. */
export function compareForDelete(a: KubeObject, b: KubeObject): number {
  return compareForApply(b, a);
}
