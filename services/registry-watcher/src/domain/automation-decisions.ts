import {
  DEPLOY_DECISION_RECORDED_V1,
  DeployDecisionV1Data,
  stableId,
  type Actor,
  type DeployDecisionRecordedV1,
  type GitSource,
  type ImagePushedV1Data,
} from '@capstan/events';
import { canonicalName, formatImageRef, type PolicyPick, type SlotDecision } from '@capstan/image-policy';

export interface RunContext {
  automation: { namespace: string; name: string; uid: string };
  cluster: string;
  now: Date;
  /** The push that started the run (its event id is the correlation id), if a push did. */
  push?: { id: string; data: ImagePushedV1Data };
  /** A run without a push (interval, manual) still needs one id for its decisions. */
  runId: string;
  /** The commit this run made, for updates. */
  commit?: GitSource & { files: string[] };
  bot: { name: string; email: string };
}

export const AUTOMATION_SOURCE = '/capstan/registry-watcher';

export function correlationOf(ctx: RunContext): string {
  return ctx.push?.id ?? ctx.runId;
}

/**
 * The decision for one slot of an automation run: `image.updated` when the run committed a new
 * image, `skipped` with the guard's reason otherwise. Pure: ids depend on the automation, the
 * trigger, the object and the outcome, so a retried run records each decision once.
 */
export function slotDecisionEvent(
  ctx: RunContext,
  decision: Extract<SlotDecision, { kind: 'update' | 'skip' }>,
  pick: PolicyPick | undefined,
): DeployDecisionRecordedV1 {
  const slot = decision.slot;
  const o = slot.object;
  const bot: Actor = { kind: 'bot', name: ctx.bot.name, email: ctx.bot.email, evidence: 'controller' };
  const pusher: Actor | undefined = ctx.push?.data.pusher
    ? { kind: 'person', name: ctx.push.data.pusher, evidence: 'registry-pusher' }
    : undefined;
  const actors = pusher ? [pusher, bot] : [bot];
  const image = decision.kind === 'update' ? decision.to : decision.candidate;
  const selection = pick?.selection;
  const evidence = {
    file: slot.file,
    container: slot.container,
    current: slot.currentText,
    policy: pick?.policyName ?? (slot.policy.source === 'flux-v1' ? slot.policy.filter : ''),
    ...(selection
      ? {
          candidates: { considered: selection.considered, matched: selection.matched },
          ...(selection.kind === 'chosen'
            ? {
                chosen: {
                  tag: selection.tag,
                  digest: selection.digest ?? null,
                  created: selection.created ?? null,
                },
              }
            : {}),
        }
      : {}),
    why: decision.kind === 'update' ? decision.why : decision.message,
    ...(ctx.push
      ? {
          push: {
            event: ctx.push.id,
            image: `${ctx.push.data.registry}/${ctx.push.data.repository}:${ctx.push.data.tag}`,
            digest: ctx.push.data.digest,
            pushedAt: ctx.push.data.pushedAt,
            pusher: ctx.push.data.pusher ?? null,
          },
        }
      : {}),
    ...(decision.kind === 'update' && ctx.commit
      ? { commit: { sha: ctx.commit.sha, files: ctx.commit.files } }
      : {}),
  };
  const target = { apiVersion: o.apiVersion, kind: o.kind, namespace: o.namespace, name: o.name };
  const { files: _files, ...source } = ctx.commit ?? { files: [] };
  const data = DeployDecisionV1Data.parse({
    action: decision.kind === 'update' ? 'image.updated' : 'skipped',
    outcome: decision.kind === 'update' ? 'succeeded' : 'noop',
    reason: decision.kind === 'update' ? 'ImageUpdated' : decision.reason,
    message:
      decision.kind === 'update'
        ? `${slot.container} of ${o.namespace}/${o.kind}/${o.name}: ${decision.from} -> ${formatImageRef(decision.to)}${ctx.commit ? ` in ${ctx.commit.sha.slice(0, 12)}` : ''}`
        : decision.message,
    decidedBy: {
      kind: 'ImageUpdateAutomation',
      namespace: ctx.automation.namespace,
      name: ctx.automation.name,
    },
    cluster: ctx.cluster,
    actor: actors[0],
    actors,
    ...(decision.kind === 'update' && ctx.commit ? { source } : {}),
    ...(image
      ? {
          image: {
            repository: canonicalName(image),
            tag: image.tag ?? '',
            ...(image.digest ? { digest: image.digest } : {}),
          },
        }
      : {}),
    targets: [target],
    changeSet: decision.kind === 'update' ? [{ ...target, action: 'configured' }] : [],
    evidence,
    decidedAt: ctx.now.toISOString(),
  });
  const trigger = ctx.push?.id ?? ctx.runId;
  const outcomeKey =
    decision.kind === 'update'
      ? formatImageRef(decision.to)
      : `${decision.reason}:${image ? formatImageRef(image) : ''}`;
  return {
    specversion: '1.0',
    id: stableId(
      'decision',
      ctx.automation.uid,
      trigger,
      slot.file,
      `${o.kind}/${o.namespace}/${o.name}`,
      slot.container,
      outcomeKey,
    ),
    source: AUTOMATION_SOURCE,
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: `ImageUpdateAutomation/${ctx.automation.namespace}/${ctx.automation.name}`,
    time: ctx.now.toISOString(),
    datacontenttype: 'application/json',
    correlationid: correlationOf(ctx),
    data,
  };
}

/** A run that could not land its commit (push rejected, repository unreachable): one failed decision. */
export function runFailedEvent(ctx: RunContext, reason: string, message: string): DeployDecisionRecordedV1 {
  const data = DeployDecisionV1Data.parse({
    action: 'failed',
    outcome: 'failed',
    reason,
    message,
    decidedBy: {
      kind: 'ImageUpdateAutomation',
      namespace: ctx.automation.namespace,
      name: ctx.automation.name,
    },
    cluster: ctx.cluster,
    actor: { kind: 'capstan', name: 'capstan', evidence: 'controller' },
    evidence: ctx.push ? { push: ctx.push.id } : {},
    decidedAt: ctx.now.toISOString(),
  });
  return {
    specversion: '1.0',
    id: stableId('decision', ctx.automation.uid, ctx.push?.id ?? ctx.runId, 'failed', reason),
    source: AUTOMATION_SOURCE,
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: `ImageUpdateAutomation/${ctx.automation.namespace}/${ctx.automation.name}`,
    time: ctx.now.toISOString(),
    datacontenttype: 'application/json',
    correlationid: correlationOf(ctx),
    data,
  };
}
