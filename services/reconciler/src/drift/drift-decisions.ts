import {
  DEPLOY_DECISION_RECORDED_V1,
  DRIFT_DETECTED_V1,
  DeployDecisionV1Data,
  DriftDetectedV1Data,
  stableId,
  type Actor,
  type DeployDecisionRecordedV1,
  type DriftDetectedV1,
  type ObjectRef,
} from '@capstan/events';
import { redactSecrets, type FieldDrift } from '@capstan/gitops-core';

export type DriftPolicy = 'correct' | 'warn';

/** One observed drift of one object, everything the events and decisions are made of. */
export interface DriftFinding {
  sync: { namespace: string; name: string; uid: string };
  object: ObjectRef;
  change: 'modified' | 'deleted';
  fields: readonly FieldDrift[];
  /** The resourceVersion the drift was seen at: with the Sync and object, it names the drift. */
  resourceVersion: string;
  policy: DriftPolicy;
  cluster: string;
  detectedAt: Date;
}

// Field managers of controllers and automation; anything else (kubectl, kubectl-edit, k9s,
// Lens, a script's own name) is taken to be a person at a keyboard.
const CONTROLLER_MANAGERS = [
  /controller/i,
  /operator/i,
  /autoscaler/i,
  /^kube-/i,
  /^system:/i,
  /\[bot\]/i,
  /^(helm|flux|argocd|kustomize|terraform|pulumi)/i,
];

/**
 * Who changed the object, from its field manager. The manager name is what the client told the
 * API server; the API server recorded it on an authenticated request, so `authenticated-user` is
 * the closest evidence for a person, `controller` for automation. A deletion leaves no manager
 * behind: the actor is then unknown, observed by Capstan's controller.
 */
export function actorOfManager(manager: string | null): Actor {
  if (manager === null) return { kind: 'person', name: 'unknown', evidence: 'controller' };
  return CONTROLLER_MANAGERS.some((p) => p.test(manager))
    ? { kind: 'bot', name: manager, evidence: 'controller' }
    : { kind: 'person', name: manager, evidence: 'authenticated-user' };
}

/** The manager to credit: the one holding most of the changed fields, ties to the first. */
export function managerOf(fields: readonly FieldDrift[]): string | null {
  const counts = new Map<string, number>();
  for (const f of fields) if (f.manager) counts.set(f.manager, (counts.get(f.manager) ?? 0) + 1);
  let best: string | null = null;
  for (const [m, n] of counts) if (best === null || n > (counts.get(best) ?? 0)) best = m;
  return best;
}

/** Same drift, same id, on every replica: JetStream drops the duplicates. */
export function driftCorrelationId(f: DriftFinding): string {
  return stableId('drift', f.sync.uid, describe(f.object), f.resourceVersion);
}

export function driftDetectedEvent(f: DriftFinding): DriftDetectedV1 {
  const data = DriftDetectedV1Data.parse({
    sync: { kind: 'Sync', namespace: f.sync.namespace, name: f.sync.name },
    object: f.object,
    change: f.change,
    fields: f.fields.map((x) => x.path),
    manager: managerOf(f.fields),
    detectedAt: f.detectedAt.toISOString(),
  });
  return {
    specversion: '1.0',
    id: stableId('drift-detected', f.sync.uid, describe(f.object), f.resourceVersion),
    source: '/capstan/reconciler',
    type: DRIFT_DETECTED_V1,
    subject: `${f.object.kind}/${f.object.namespace}/${f.object.name}`,
    time: f.detectedAt.toISOString(),
    datacontenttype: 'application/json',
    correlationid: driftCorrelationId(f),
    data,
  };
}

export function driftDetectedDecision(f: DriftFinding): DeployDecisionRecordedV1 {
  const manager = managerOf(f.fields);
  const actor = actorOfManager(manager);
  const what =
    f.change === 'deleted'
      ? 'deleted'
      : `changed ${f.fields.map((x) => `${x.path} (${show(x.desired)} -> ${show(x.live)})`).join(', ')}`;
  return decision(f, 'drift.detected', f.detectedAt, {
    outcome: 'succeeded',
    reason: 'DriftDetected',
    message: `${manager ?? 'someone'} ${what} of ${describe(f.object)}; policy ${f.policy}`,
    actor,
    actors: [actor],
    targets: [f.object],
    evidence: evidence(f),
  });
}

export function driftCorrectedDecision(f: DriftFinding, correctedAt: Date): DeployDecisionRecordedV1 {
  const actor: Actor = { kind: 'capstan', name: 'capstan', evidence: 'controller' };
  return decision(f, 'drift.corrected', correctedAt, {
    outcome: 'succeeded',
    reason: 'DriftCorrected',
    message: `${f.change === 'deleted' ? 'recreated' : 'restored'} ${describe(f.object)} as last applied`,
    actor,
    actors: [actor],
    targets: [f.object],
    changeSet: [{ ...f.object, action: f.change === 'deleted' ? 'created' : 'configured' }],
    evidence: evidence(f),
  });
}

function decision(
  f: DriftFinding,
  action: 'drift.detected' | 'drift.corrected',
  at: Date,
  rest: Omit<
    DeployDecisionV1Data,
    'action' | 'decidedBy' | 'cluster' | 'decidedAt' | 'changeSet' | 'source' | 'image'
  > & { changeSet?: DeployDecisionV1Data['changeSet'] },
): DeployDecisionRecordedV1 {
  // compareOwned already masks secret fields; this keeps any other path (a URL in a message) clean too.
  const data = DeployDecisionV1Data.parse({
    ...redactSecrets(rest),
    action,
    decidedBy: { kind: 'Sync', namespace: f.sync.namespace, name: f.sync.name },
    cluster: f.cluster,
    decidedAt: at.toISOString(),
  });
  return {
    specversion: '1.0',
    id: stableId('decision', f.sync.uid, describe(f.object), f.resourceVersion, action),
    source: '/capstan/reconciler',
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: `Sync/${f.sync.namespace}/${f.sync.name}`,
    time: at.toISOString(),
    datacontenttype: 'application/json',
    correlationid: driftCorrelationId(f),
    data,
  };
}

function evidence(f: DriftFinding): Record<string, unknown> {
  return {
    change: f.change,
    policy: f.policy,
    resourceVersion: f.resourceVersion,
    manager: managerOf(f.fields),
    // JSON has no undefined: a removed field is null "after".
    fields: f.fields.map((x) => ({
      path: x.path,
      before: x.desired ?? null,
      after: x.live ?? null,
      manager: x.manager,
    })),
  };
}

function describe(o: ObjectRef): string {
  return `${o.namespace ? `${o.namespace}/` : ''}${o.kind}/${o.name}`;
}

function show(v: unknown): string {
  return v === undefined ? '(removed)' : JSON.stringify(v);
}
