import {
  DEPLOY_DECISION_RECORDED_V1,
  DeployDecisionV1Data,
  stableId,
  type ChangeSetEntry,
  type DeployDecisionRecordedV1,
  type GitSource,
} from '@capstan/events';
import { actorsOfCommit, CAPSTAN_ACTOR } from './actor.js';
import { summarize, type ReconcileOutcome, type ReleaseOutcome } from './outcome.js';

export interface DecisionContext {
  sync: { namespace: string; name: string; uid: string };
  /** What caused this reconcile (a commit event id, a spec change): one decision per trigger. */
  triggerId: string;
  source: GitSource;
  cluster: string;
  now: Date;
  correlationId: string;
  /** The verified signer of the commit, when its signature was checked against trusted keys. */
  signer?: string;
  /**
   * Set when `source` is an earlier commit credited with part of a later reconcile's changes:
   * the revision that applied them.
   */
  appliedWith?: string;
  /**
   * More commits arrived since the last applied revision than attribution walks: how many, how
   * many were walked, and the changes made beyond them (left with this commit, unattributed).
   */
  attributionWindow?: { commits: number; walked: number; beyond: readonly ChangeSetEntry[] };
}

/** The deploy decision for one reconcile. Pure: the same inputs give the same event and id. */
export function decisionFor(ctx: DecisionContext, outcome: ReconcileOutcome): DeployDecisionRecordedV1 {
  const actors = [
    ...actorsOfCommit(ctx.source),
    ...(ctx.signer
      ? [{ kind: 'person' as const, name: ctx.signer, evidence: 'verified-signer' as const }]
      : []),
  ];
  const base = envelope(ctx, actors);
  // Hooks that ran are part of what this decision did, listed first as they ran first.
  const changeSet = outcome.kind === 'applied' ? [...(outcome.hooks ?? []), ...outcome.changeSet] : [];
  // HelmReleases whose objects changed are targets too, so `capstan who hr/<name>` finds them.
  const releaseTargets =
    outcome.kind === 'applied'
      ? (outcome.releases ?? []).filter((r) => r.changed && !r.failure).map(releaseRef)
      : [];
  const written = outcome.kind === 'failed' ? (outcome.written ?? []) : [];
  const data =
    outcome.kind === 'applied'
      ? DeployDecisionV1Data.parse({
          ...base,
          action: 'applied',
          outcome: changeSet.every((c) => c.action === 'unchanged') ? 'noop' : 'succeeded',
          reason: 'ReconciliationSucceeded',
          message: `applied revision ${ctx.source.revision}${ctx.appliedWith ? ` (with ${ctx.appliedWith})` : ''}: ${summarize(changeSet)}${windowNote(ctx)}`,
          targets: [
            ...changeSet.map(({ apiVersion, kind, namespace, name }) => ({
              apiVersion,
              kind,
              namespace,
              name,
            })),
            ...releaseTargets,
          ],
          changeSet,
          evidence: {
            ...(ctx.appliedWith ? { appliedWith: ctx.appliedWith } : {}),
            ...(ctx.attributionWindow
              ? {
                  attribution: {
                    commits: ctx.attributionWindow.commits,
                    walked: ctx.attributionWindow.walked,
                    unattributed: ctx.attributionWindow.beyond.map(describeEntry),
                  },
                }
              : {}),
            // Each changed release's chart and values: `capstan history hr/<name>` reads them.
            ...(releaseTargets.length > 0 ? { releases: releaseHistory(outcome) } : {}),
          },
        })
      : DeployDecisionV1Data.parse({
          ...base,
          action: 'failed',
          outcome: 'failed',
          reason: outcome.reason,
          message:
            written.length > 0
              ? `${outcome.message} (written before the failure: ${summarize(written)})`
              : outcome.message,
          // What a staged apply wrote before failing is this commit's doing too: it is listed.
          targets: written.map(({ apiVersion, kind, namespace, name }) => ({
            apiVersion,
            kind,
            namespace,
            name,
          })),
          changeSet: written,
          evidence: {
            failures: outcome.failures,
            // A tenancy refusal names the policy and the rule that refused, for the audit log.
            ...(outcome.refusals?.length ? { refusals: outcome.refusals } : {}),
          },
        });
  return recordedDecision(ctx, data, data.action);
}

/**
 * The decision to delete objects that left Git: one per prune run, listing every deletion.
 * The applied decision of the same reconcile covers the rest of the change set.
 */
export function prunedDecisionFor(
  ctx: DecisionContext,
  deleted: readonly ChangeSetEntry[],
): DeployDecisionRecordedV1 {
  const data = DeployDecisionV1Data.parse({
    ...envelope(ctx, actorsOfCommit(ctx.source)),
    action: 'pruned',
    outcome: 'succeeded',
    reason: 'Pruned',
    message: `pruned ${deleted.length} object(s) removed from revision ${ctx.source.revision}: ${deleted
      .map((d) => `${d.namespace ? `${d.namespace}/` : ''}${d.kind}/${d.name}`)
      .join(', ')}`,
    targets: deleted.map(({ apiVersion, kind, namespace, name }) => ({ apiVersion, kind, namespace, name })),
    changeSet: deleted,
  });
  return recordedDecision(ctx, data, 'pruned');
}

/**
 * A HelmRelease that failed to render, as its own failed decision: the rest of the Sync applied.
 * One per release and trigger.
 */
export function releaseFailedDecisionFor(
  ctx: DecisionContext,
  release: ReleaseOutcome,
  /** What rolling the release back wrote, when its failed upgrade was rolled back. */
  rollback: readonly ChangeSetEntry[] = [],
): DeployDecisionRecordedV1 {
  // The failure message names the release's file (and the URL and cause) itself.
  const where = `HelmRelease ${release.namespace}/${release.name}`;
  const data = DeployDecisionV1Data.parse({
    ...envelope(ctx, actorsOfCommit(ctx.source)),
    action: 'failed',
    outcome: 'failed',
    reason: 'ReleaseFailed',
    message: `${where} ${release.failure?.stage === 'wait' || release.failure?.stage === 'test' ? 'failed at' : 'left out of'} revision ${ctx.source.revision}: ${release.failure?.message ?? 'failed'}`,
    targets: [
      releaseRef(release),
      ...rollback.map(({ apiVersion, kind, namespace, name }) => ({ apiVersion, kind, namespace, name })),
    ],
    changeSet: [...rollback],
    evidence: {
      ...(release.failure?.rolledBackTo ? { rolledBackTo: release.failure.rolledBackTo } : {}),
      failures: [
        {
          object: `${release.namespace}/HelmRelease/${release.name}`,
          file: release.file,
          document: release.document,
          message: release.failure?.message ?? '',
        },
      ],
      retried: release.failure?.terminal === false,
    },
  });
  return recordedDecision(ctx, data, 'release', release.namespace, release.name);
}

function releaseRef(r: ReleaseOutcome) {
  return { apiVersion: r.apiVersion, kind: 'HelmRelease', namespace: r.namespace, name: r.name };
}

/** The history rows of the releases an applied outcome changed. */
function releaseHistory(outcome: ReconcileOutcome) {
  if (outcome.kind !== 'applied') return [];
  return (outcome.releases ?? [])
    .filter((r) => r.changed && !r.failure)
    .map((r) => ({
      namespace: r.namespace,
      name: r.name,
      file: r.file,
      ...(r.chart ? { chart: r.chart.name, version: r.chart.version } : {}),
      ...(r.valuesDigest ? { valuesDigest: r.valuesDigest } : {}),
    }));
}

/**
 * A Sync's decision as its CloudEvent. The id derives from the Sync, the trigger and `idParts`
 * (what the decision is about), so a redelivered trigger publishes the same id and JetStream
 * drops the repeat.
 */
function recordedDecision(
  ctx: DecisionContext,
  data: DeployDecisionRecordedV1['data'],
  ...idParts: string[]
): DeployDecisionRecordedV1 {
  return {
    specversion: '1.0',
    id: stableId('decision', ctx.sync.uid, ctx.triggerId, ...idParts),
    source: '/capstan/reconciler',
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: `Sync/${ctx.sync.namespace}/${ctx.sync.name}`,
    time: ctx.now.toISOString(),
    datacontenttype: 'application/json',
    correlationid: ctx.correlationId,
    data,
  };
}

/** What every decision of a Sync says about who decided, where, when and from which commit. */
function envelope(ctx: DecisionContext, actors: ReturnType<typeof actorsOfCommit>) {
  return {
    decidedBy: { kind: 'Sync' as const, namespace: ctx.sync.namespace, name: ctx.sync.name },
    cluster: ctx.cluster,
    actor: actors[0] ?? CAPSTAN_ACTOR,
    actors,
    source: ctx.source,
    decidedAt: ctx.now.toISOString(),
  };
}

/** The applied decision says when attribution did not walk every commit, and what it left unattributed. */
function windowNote(ctx: DecisionContext): string {
  const w = ctx.attributionWindow;
  if (!w) return '';
  const left = w.beyond.length > 0 ? `; not attributed: ${w.beyond.map(describeEntry).join(', ')}` : '';
  return ` (attribution walked the newest ${w.walked} of ${w.commits} commits${left})`;
}

function describeEntry(e: Pick<ChangeSetEntry, 'kind' | 'namespace' | 'name'>): string {
  return `${e.namespace ? `${e.namespace}/` : ''}${e.kind}/${e.name}`;
}
