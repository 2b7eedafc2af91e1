/**
 * kstatus-style health of a live object, computed from the object alone (pure). `Current`
 * means the controller has caught up with the spec and the object does what it says;
 * `InProgress` that it is getting there; `Failed` that it will not without a change.
 */
export type HealthStatus = 'Current' | 'InProgress' | 'Failed';

export interface Health {
  status: HealthStatus;
  message: string;
}

/** The parts of a live object health reads; everything else is ignored. */
export interface LiveObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; [key: string]: unknown };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

interface StatusCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

const current = (message = 'Resource is current'): Health => ({ status: 'Current', message });
const progressing = (message: string): Health => ({ status: 'InProgress', message });
const failed = (message: string): Health => ({ status: 'Failed', message });

export function healthOf(o: LiveObject): Health {
  const status = record(o.status);
  const spec = record(o.spec);
  const generation = o.metadata.generation;
  const observed = num(status['observedGeneration']);
  // A controller that has not seen the latest spec cannot vouch for it yet.
  if (generation !== undefined && observed !== undefined && observed < generation)
    return progressing(`observedGeneration ${observed} < generation ${generation}`);
  switch (o.kind) {
    case 'Deployment':
      return deploymentHealth(spec, status, generation, observed);
    case 'StatefulSet':
      return statefulSetHealth(spec, status, generation, observed);
    case 'DaemonSet':
      return daemonSetHealth(status, generation, observed);
    case 'Job':
      return jobHealth(spec, status);
    case 'Pod':
      return podHealth(status);
    case 'Service':
      return serviceHealth(spec, status);
    case 'CustomResourceDefinition':
      return crdHealth(status);
    default:
      return genericHealth(status);
  }
}

function deploymentHealth(
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  generation: number | undefined,
  observed: number | undefined,
): Health {
  if (generation !== undefined && observed === undefined) return progressing('Deployment not yet observed');
  const conditions = conditionsOf(status);
  const progressingCond = conditions.find((c) => c.type === 'Progressing');
  if (progressingCond?.reason === 'ProgressDeadlineExceeded')
    return failed(`Progress deadline exceeded: ${progressingCond.message ?? ''}`.trim());
  if (spec['paused'] === true) return current('Deployment is paused');
  const desired = num(spec['replicas']) ?? 1;
  const updated = num(status['updatedReplicas']) ?? 0;
  const total = num(status['replicas']) ?? 0;
  const available = num(status['availableReplicas']) ?? 0;
  if (updated < desired) return progressing(`Updated: ${updated}/${desired}`);
  if (total > updated) return progressing(`Pending termination: ${total - updated}`);
  if (available < updated) return progressing(`Available: ${available}/${updated}`);
  const availableCond = conditions.find((c) => c.type === 'Available');
  if (desired > 0 && availableCond && availableCond.status !== 'True')
    return progressing('Deployment not Available');
  return current(`Deployment is available. Replicas: ${available}`);
}

function statefulSetHealth(
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  generation: number | undefined,
  observed: number | undefined,
): Health {
  if (generation !== undefined && observed === undefined) return progressing('StatefulSet not yet observed');
  const desired = num(spec['replicas']) ?? 1;
  const ready = num(status['readyReplicas']) ?? 0;
  const currentReplicas = num(status['currentReplicas']) ?? 0;
  const strategy = record(spec['updateStrategy']);
  if (ready < desired) return progressing(`Ready: ${ready}/${desired}`);
  if (strategy['type'] === 'OnDelete') return current(`StatefulSet is ready. Replicas: ${ready}`);
  const partition = num(record(strategy['rollingUpdate'])['partition']) ?? 0;
  const updated = num(status['updatedReplicas']) ?? 0;
  if (partition > 0) {
    if (updated < desired - partition) return progressing(`Updated: ${updated}/${desired - partition}`);
    return current(`Partitioned roll out complete: ${updated} updated`);
  }
  if (status['updateRevision'] !== undefined && status['currentRevision'] !== status['updateRevision'])
    return progressing(`Rolling out: ${updated}/${desired} updated`);
  if (currentReplicas < desired) return progressing(`Current: ${currentReplicas}/${desired}`);
  return current(`StatefulSet is ready. Replicas: ${ready}`);
}

function daemonSetHealth(
  status: Record<string, unknown>,
  generation: number | undefined,
  observed: number | undefined,
): Health {
  if (generation !== undefined && observed === undefined) return progressing('DaemonSet not yet observed');
  const desired = num(status['desiredNumberScheduled']) ?? 0;
  const updated = num(status['updatedNumberScheduled']) ?? 0;
  const available = num(status['numberAvailable']) ?? 0;
  if (updated < desired) return progressing(`Updated: ${updated}/${desired}`);
  if (available < desired) return progressing(`Available: ${available}/${desired}`);
  return current(`All ${desired} scheduled pods are available`);
}

function jobHealth(spec: Record<string, unknown>, status: Record<string, unknown>): Health {
  const conditions = conditionsOf(status);
  const failedCond = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failedCond) return failed(`Job failed: ${failedCond.reason ?? ''} ${failedCond.message ?? ''}`.trim());
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return current('Job completed');
  if (spec['suspend'] === true) return current('Job is suspended');
  return progressing(`Job in progress: ${num(status['succeeded']) ?? 0} succeeded`);
}

/** A Pod that runs to completion (a Helm hook) is done when it succeeded; others when Ready. */
function podHealth(status: Record<string, unknown>): Health {
  const phase = typeof status['phase'] === 'string' ? status['phase'] : 'Pending';
  if (phase === 'Succeeded') return current('Pod succeeded');
  if (phase === 'Failed') {
    const why = [status['reason'], status['message']].filter((v) => typeof v === 'string').join(': ');
    return failed(`Pod failed${why ? `: ${why}` : ''}`);
  }
  const ready = conditionsOf(status).some((c) => c.type === 'Ready' && c.status === 'True');
  return ready ? current('Pod is ready') : progressing(`Pod is ${phase}`);
}

function serviceHealth(spec: Record<string, unknown>, status: Record<string, unknown>): Health {
  if (spec['type'] !== 'LoadBalancer') return current('Service is ready');
  const ingress = record(status['loadBalancer'])['ingress'];
  return Array.isArray(ingress) && ingress.length > 0
    ? current('LoadBalancer has an ingress address')
    : progressing('LoadBalancer has no ingress address yet');
}

function crdHealth(status: Record<string, unknown>): Health {
  const conditions = conditionsOf(status);
  const names = conditions.find((c) => c.type === 'NamesAccepted');
  if (names?.status === 'False') return failed(`Names not accepted: ${names.message ?? ''}`.trim());
  return conditions.some((c) => c.type === 'Established' && c.status === 'True')
    ? current('CRD is established')
    : progressing('CRD is not established yet');
}

/** Any other kind: kstatus conventions (Stalled, Ready), and Current when it has none. */
function genericHealth(status: Record<string, unknown>): Health {
  const conditions = conditionsOf(status);
  const stalled = conditions.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled) return failed(stalled.message ?? stalled.reason ?? 'Stalled');
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return current(ready.message || 'Ready');
  if (ready) return progressing(ready.message || ready.reason || 'not Ready');
  const reconciling = conditions.find((c) => c.type === 'Reconciling' && c.status === 'True');
  if (reconciling) return progressing(reconciling.message ?? 'Reconciling');
  return current();
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function conditionsOf(status: Record<string, unknown>): StatusCondition[] {
  const c = status['conditions'];
  if (!Array.isArray(c)) return [];
  return c.filter(
    (x): x is StatusCondition =>
      typeof x === 'object' && x !== null && typeof (x as StatusCondition).type === 'string',
  );
}
