import type { CanaryModel } from '@capstan/canary-core';

/**
 * The objects a Canary owns, built as plain data from the target Deployment: the `-primary`
 * Deployment (with `-primary` copies of the ConfigMaps and Secrets it references), the apex,
 * primary and canary Services and the primary HPA. Pure, so init and promotion build the same.
 */
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: unknown[];
  };
  [k: string]: unknown;
}

export interface DeploymentLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: PodTemplate;
    strategy?: unknown;
    minReadySeconds?: number;
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    observedGeneration?: number;
  };
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { containers?: Container[]; initContainers?: Container[]; volumes?: Volume[]; [k: string]: unknown };
}

interface Container {
  name: string;
  image?: string;
  env?: {
    name: string;
    valueFrom?: { configMapKeyRef?: { name: string }; secretKeyRef?: { name: string } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  [k: string]: unknown;
}

interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  projected?: { sources?: { configMap?: { name: string }; secret?: { name: string } }[] };
  [k: string]: unknown;
}

/** Flagger's selector labels, in its order of preference. */
const SELECTOR_LABELS = ['app', 'name', 'app.kubernetes.io/name'];

export class WorkloadError extends Error {
  constructor(
    readonly object: string,
    message: string,
  ) {
    super(`${object}: ${message}`);
    this.name = 'WorkloadError';
  }
}

/** The label key/value the target's pods are selected by. */
export function selectorOf(target: DeploymentLike, where: string): { key: string; value: string } {
  const labels = target.spec?.selector?.matchLabels ?? {};
  for (const key of SELECTOR_LABELS) {
    const value = labels[key];
    if (value) return { key, value };
  }
  throw new WorkloadError(where, `spec.selector.matchLabels has none of ${SELECTOR_LABELS.join(', ')}`);
}

export interface ConfigRefs {
  configMaps: string[];
  secrets: string[];
}

/** The ConfigMaps and Secrets a pod template references (volumes, envFrom, env valueFrom). */
export function configRefsOf(template: PodTemplate | undefined): ConfigRefs {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  const spec = template?.spec;
  for (const v of spec?.volumes ?? []) {
    if (v.configMap?.name) cms.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) cms.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef?.name) cms.add(e.configMapRef.name);
      if (e.secretRef?.name) secrets.add(e.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) cms.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
  }
  return { configMaps: [...cms].sort(), secrets: [...secrets].sort() };
}

/** The template with every tracked config reference renamed to its `-primary` copy. */
export function primaryTemplate(
  template: PodTemplate,
  tracked: ConfigRefs,
  selector: { key: string; value: string },
): PodTemplate {
  const cm = (n: string) => (tracked.configMaps.includes(n) ? `${n}-primary` : n);
  const sec = (n: string) => (tracked.secrets.includes(n) ? `${n}-primary` : n);
  const t = structuredClone(template);
  t.metadata = {
    ...t.metadata,
    labels: { ...t.metadata?.labels, [selector.key]: `${selector.value}-primary` },
  };
  const spec = t.spec ?? {};
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.name = cm(v.configMap.name);
    if (v.secret) v.secret.secretName = sec(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) s.configMap.name = cm(s.configMap.name);
      if (s.secret) s.secret.name = sec(s.secret.name);
    }
  }
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) e.configMapRef.name = cm(e.configMapRef.name);
      if (e.secretRef) e.secretRef.name = sec(e.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef)
        e.valueFrom.configMapKeyRef.name = cm(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef) e.valueFrom.secretKeyRef.name = sec(e.valueFrom.secretKeyRef.name);
    }
  }
  return t;
}

export interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

function ownerRefs(owner: Owner) {
  return [
    {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.name,
      uid: owner.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

export function primaryDeployment(
  model: CanaryModel,
  target: DeploymentLike,
  tracked: ConfigRefs,
  owner: Owner,
  replicas: number,
): Obj {
  const where = `Deployment ${model.namespace}/${model.target}`;
  const sel = selectorOf(target, where);
  const template = target.spec?.template;
  if (!template) throw new WorkloadError(where, 'spec.template is missing');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: `${model.target}-primary`,
      namespace: model.namespace,
      labels: { ...target.metadata?.labels, [sel.key]: `${sel.value}-primary` },
      ownerReferences: ownerRefs(owner),
    },
    spec: {
      replicas,
      selector: { matchLabels: { [sel.key]: `${sel.value}-primary` } },
      template: primaryTemplate(template, tracked, sel),
      ...(target.spec?.strategy ? { strategy: target.spec.strategy } : {}),
      ...(target.spec?.minReadySeconds ? { minReadySeconds: target.spec.minReadySeconds } : {}),
    },
  };
}

export function primaryConfig(
  kind: 'ConfigMap' | 'Secret',
  source: { data?: Record<string, string>; type?: string },
  name: string,
  namespace: string,
  owner: Owner,
): Obj {
  return {
    apiVersion: 'v1',
    kind,
    metadata: { name: `${name}-primary`, namespace, ownerReferences: ownerRefs(owner) },
    data: source.data ?? {},
    ...(kind === 'Secret' && source.type ? { type: source.type } : {}),
  };
}

/** Services apex (-> primary pods), -primary and -canary (-> target pods). */
export function services(model: CanaryModel, target: DeploymentLike, owner: Owner): Obj[] {
  const sel = selectorOf(target, `Deployment ${model.namespace}/${model.target}`);
  const svc = (name: string, selectorValue: string): Obj => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: model.namespace,
      labels: { [sel.key]: name },
      ownerReferences: ownerRefs(owner),
    },
    spec: {
      type: 'ClusterIP',
      selector: { [sel.key]: selectorValue },
      ports: [{ name: model.portName, port: model.port, targetPort: model.targetPort, protocol: 'TCP' }],
    },
  });
  return [
    svc(model.apex, `${sel.value}-primary`),
    svc(`${model.apex}-primary`, `${sel.value}-primary`),
    svc(`${model.apex}-canary`, sel.value),
  ];
}

/**
 * The apex Service after a revert on deletion: selecting the target's own pods, with no owner
 * reference, so the garbage collector leaves it when the Canary and its primary go.
 */
export function apexForTarget(model: CanaryModel, target: DeploymentLike): Obj {
  const sel = selectorOf(target, `Deployment ${model.namespace}/${model.target}`);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: model.apex, namespace: model.namespace, labels: { [sel.key]: model.apex } },
    spec: {
      type: 'ClusterIP',
      selector: { [sel.key]: sel.value },
      ports: [{ name: model.portName, port: model.port, targetPort: model.targetPort, protocol: 'TCP' }],
    },
  };
}

export function primaryAutoscaler(
  model: CanaryModel,
  hpa: { spec?: Record<string, unknown> },
  owner: Owner,
): Obj {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: `${model.autoscaler ?? model.target}-primary`,
      namespace: model.namespace,
      ownerReferences: ownerRefs(owner),
    },
    spec: {
      ...hpa.spec,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${model.target}-primary` },
    },
  };
}

/** Available and rolled out: every replica updated and available, the controller caught up. */
export function isDeploymentReady(d: DeploymentLike & { metadata?: { generation?: number } }): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return false;
  return (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want && (s.replicas ?? 0) <= want;
}
