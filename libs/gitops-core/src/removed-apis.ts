/**
 * API versions Kubernetes stopped serving, and what to write instead (the upstream deprecation
 * guide). Repositories written for older clusters (Flux v1 workshops, charts of that age) still
 * carry them; the API server only answers "404 page not found", so the reconciler names the
 * replacement itself.
 */
const REMOVED: Record<string, Record<string, string>> = {
  'extensions/v1beta1': {
    Ingress: 'networking.k8s.io/v1',
    Deployment: 'apps/v1',
    DaemonSet: 'apps/v1',
    ReplicaSet: 'apps/v1',
    NetworkPolicy: 'networking.k8s.io/v1',
    PodSecurityPolicy: '(removed in 1.25; use Pod Security Admission)',
  },
  'apps/v1beta1': { Deployment: 'apps/v1', StatefulSet: 'apps/v1', ReplicaSet: 'apps/v1' },
  'apps/v1beta2': {
    Deployment: 'apps/v1',
    StatefulSet: 'apps/v1',
    DaemonSet: 'apps/v1',
    ReplicaSet: 'apps/v1',
  },
  'networking.k8s.io/v1beta1': { Ingress: 'networking.k8s.io/v1', IngressClass: 'networking.k8s.io/v1' },
  'rbac.authorization.k8s.io/v1beta1': {
    Role: 'rbac.authorization.k8s.io/v1',
    RoleBinding: 'rbac.authorization.k8s.io/v1',
    ClusterRole: 'rbac.authorization.k8s.io/v1',
    ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  },
  'apiextensions.k8s.io/v1beta1': { CustomResourceDefinition: 'apiextensions.k8s.io/v1' },
  'admissionregistration.k8s.io/v1beta1': {
    MutatingWebhookConfiguration: 'admissionregistration.k8s.io/v1',
    ValidatingWebhookConfiguration: 'admissionregistration.k8s.io/v1',
  },
  'apiregistration.k8s.io/v1beta1': { APIService: 'apiregistration.k8s.io/v1' },
  'batch/v1beta1': { CronJob: 'batch/v1' },
  'policy/v1beta1': {
    PodDisruptionBudget: 'policy/v1',
    PodSecurityPolicy: '(removed in 1.25; use Pod Security Admission)',
  },
  'autoscaling/v2beta1': { HorizontalPodAutoscaler: 'autoscaling/v2' },
  'autoscaling/v2beta2': { HorizontalPodAutoscaler: 'autoscaling/v2' },
  'scheduling.k8s.io/v1beta1': { PriorityClass: 'scheduling.k8s.io/v1' },
  'storage.k8s.io/v1beta1': {
    CSIDriver: 'storage.k8s.io/v1',
    CSINode: 'storage.k8s.io/v1',
    StorageClass: 'storage.k8s.io/v1',
    VolumeAttachment: 'storage.k8s.io/v1',
    CSIStorageCapacity: 'storage.k8s.io/v1',
  },
  'coordination.k8s.io/v1beta1': { Lease: 'coordination.k8s.io/v1' },
  'certificates.k8s.io/v1beta1': { CertificateSigningRequest: 'certificates.k8s.io/v1' },
  'discovery.k8s.io/v1beta1': { EndpointSlice: 'discovery.k8s.io/v1' },
  'events.k8s.io/v1beta1': { Event: 'events.k8s.io/v1' },
  'node.k8s.io/v1beta1': { RuntimeClass: 'node.k8s.io/v1' },
  'flowcontrol.apiserver.k8s.io/v1beta1': {
    FlowSchema: 'flowcontrol.apiserver.k8s.io/v1',
    PriorityLevelConfiguration: 'flowcontrol.apiserver.k8s.io/v1',
  },
  'flowcontrol.apiserver.k8s.io/v1beta2': {
    FlowSchema: 'flowcontrol.apiserver.k8s.io/v1',
    PriorityLevelConfiguration: 'flowcontrol.apiserver.k8s.io/v1',
  },
};

/** The API version to use instead of a removed one, or undefined when the pair was never removed. */
export function replacementApiVersion(apiVersion: string, kind: string): string | undefined {
  return REMOVED[apiVersion]?.[kind];
}

/**
 * Why the API server does not serve `kind` in `apiVersion`, in words a person can act on. Pure.
 */
export function unservedKindMessage(apiVersion: string, kind: string): string {
  const instead = replacementApiVersion(apiVersion, kind);
  if (instead?.startsWith('(')) return `${apiVersion} ${kind} is no longer served by Kubernetes ${instead}`;
  if (instead) return `${apiVersion} ${kind} is no longer served by Kubernetes; use apiVersion: ${instead}`;
  return `the API server does not serve kind ${kind} in ${apiVersion} (is its CustomResourceDefinition installed, or in this set?)`;
}
