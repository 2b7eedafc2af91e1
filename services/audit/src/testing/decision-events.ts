import {
  DEPLOY_DECISION_RECORDED_V1,
  parseEvent,
  type ChangeSetEntry,
  type DeployDecisionRecordedV1,
  type DeployDecisionV1DataInput,
  type ObjectRef,
} from '@capstan/events';

export const sha = (n: number) => n.toString(16).padStart(40, '0');

export const ada = { name: 'Ada Lovelace', email: 'ada@example.com' };
export const grace = { name: 'Grace Hopper', email: 'Grace@Example.com' };

export interface DecisionEventSpec {
  id: string;
  decidedAt?: string;
  action?: DeployDecisionV1DataInput['action'];
  outcome?: DeployDecisionV1DataInput['outcome'];
  author?: { name: string; email: string };
  commit?: number;
  message?: string;
  targets?: ObjectRef[];
  changeSet?: ChangeSetEntry[];
  evidence?: Record<string, unknown>;
  withoutSource?: boolean;
  /** The deciding Sync; flux-system/shop unless given. */
  sync?: { namespace: string; name: string };
  /** The deciding Canary instead of a Sync, as the canary-analyzer records its steps. */
  canary?: { namespace: string; name: string };
  /** The image an image decision is about. */
  image?: { repository: string; tag: string; digest?: string };
}

export const deployment = (name: string, namespace = 'shop'): ObjectRef => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  namespace,
  name,
});
export const clusterRole = (name: string): ObjectRef => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  namespace: '',
  name,
});

/** A valid decision event, parsed exactly as a consumer would receive it. */
export function decisionEvent(spec: DecisionEventSpec): DeployDecisionRecordedV1 {
  const author = spec.author ?? ada;
  const commit = spec.commit ?? 1;
  const decidedAt = spec.decidedAt ?? '2026-11-22T10:00:00Z';
  const sync = spec.sync ?? { namespace: 'flux-system', name: 'shop' };
  const decider = spec.canary
    ? { kind: 'Canary' as const, ...spec.canary }
    : { kind: 'Sync' as const, ...sync };
  const data: DeployDecisionV1DataInput = {
    action: spec.action ?? 'applied',
    outcome: spec.outcome ?? 'succeeded',
    reason: 'ReconciliationSucceeded',
    message: `applied main@sha1:${sha(commit)}`,
    decidedBy: decider,
    cluster: 'local',
    actor: { kind: 'person', name: author.name, email: author.email, evidence: 'commit-author' },
    actors: [{ kind: 'person', name: author.name, email: author.email, evidence: 'commit-author' }],
    ...(spec.withoutSource
      ? {}
      : {
          source: {
            repository: 'flux-system/shop',
            url: 'https://git.example.com/shop.git',
            ref: 'branch/main',
            revision: `main@sha1:${sha(commit)}`,
            sha: sha(commit),
            parents: [sha(commit - 1)],
            message: spec.message ?? `change ${commit}`,
            author: { ...author, time: decidedAt },
            committer: { ...grace, time: decidedAt },
          },
        }),
    targets: spec.targets ?? [],
    changeSet: spec.changeSet ?? [],
    evidence: spec.evidence ?? { diff: { changed: 1 } },
    ...(spec.image ? { image: spec.image } : {}),
    decidedAt,
  };
  const event = parseEvent({
    specversion: '1.0',
    id: spec.id,
    source: spec.canary ? '/capstan/canary-analyzer' : '/capstan/reconciler',
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: `${decider.namespace}/${decider.name}`,
    time: decidedAt,
    datacontenttype: 'application/json',
    correlationid: `corr-${spec.id}`,
    data,
  });
  if (event.type !== DEPLOY_DECISION_RECORDED_V1) throw new Error('unreachable');
  return event;
}

/** Ids and time that tests control. */
export function fixedIds(prefix = '01936f00-0000-7000-8000-'): { next(): string } {
  let n = 0;
  return { next: () => `${prefix}${(++n).toString(16).padStart(12, '0')}` };
}
