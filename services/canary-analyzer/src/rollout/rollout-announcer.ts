import {
  decisionsFor,
  hooksOfType,
  webhookPayload,
  type CanaryModel,
  type RolloutState,
} from '@capstan/canary-core';
import type { ObjectRef, RolloutEvent } from '@capstan/events';
import type { Cluster } from '../kube/cluster.js';
import type { Alerter } from '../alerts/alerter.js';
import { callHooksOfType, callWebhook, type HttpFetch } from '../webhooks/webhook-client.js';
import type { CanaryPublisher } from './publisher.js';
import type { AnnouncedSteps } from './announced-steps.js';

export interface AnnouncerDeps {
  cluster: Cluster;
  publisher: CanaryPublisher;
  alerter: Alerter;
  announced: AnnouncedSteps;
  http: HttpFetch;
  clusterName: string;
  log: { warn(m: string): void };
}

/**
 * Tells about a recorded step, once the cluster follows it: the deploy decisions for the audit
 * log (ids from uid + step, so telling twice records once), then `event` webhooks, alerts and,
 * after a Succeeded or RolledBack, the post-rollout webhooks; last, the step is marked told
 * (AnnouncedSteps), so a crash before the mark tells it again after the restart.
 */
export class RolloutAnnouncer {
  constructor(private readonly d: AnnouncerDeps) {}

  /** The last step told for this Canary (undefined: none yet). */
  lastTold(uid: string): Promise<number | undefined> {
    return this.d.announced.last(uid);
  }

  markTold(uid: string, step: number): Promise<void> {
    return this.d.announced.mark(uid, step);
  }

  async tell(
    uid: string,
    model: CanaryModel,
    state: RolloutState,
    step: number,
    events: readonly RolloutEvent[],
  ): Promise<void> {
    if (events.length === 0) return;
    await this.publishDecisions(uid, model, state, step, events);
    await this.notify(model, state, events);
    await this.d.announced.mark(uid, step);
  }

  private async publishDecisions(
    uid: string,
    model: CanaryModel,
    state: RolloutState,
    step: number,
    events: readonly RolloutEvent[],
  ): Promise<void> {
    const target = await this.d.cluster.readDeployment(model.namespace, model.target);
    const image = imageOf(target?.spec?.template?.spec?.containers?.[0]?.image);
    const targets: ObjectRef[] = [
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: model.namespace, name: model.target },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: model.namespace,
        name: `${model.target}-primary`,
      },
    ];
    const decisions = decisionsFor(events, step, {
      namespace: model.namespace,
      name: model.name,
      uid,
      cluster: this.d.clusterName,
      targets,
      run: state.run,
      ...(image ? { image } : {}),
    });
    for (const d of decisions) await this.d.publisher.decision(d, `${uid}:${state.run}`);
  }

  private async notify(
    model: CanaryModel,
    state: RolloutState,
    events: readonly RolloutEvent[],
  ): Promise<void> {
    for (const e of events) {
      const message = describeForPeople(e, state);
      for (const hook of hooksOfType(model.webhooks, 'event'))
        await callWebhook(
          hook,
          webhookPayload(model, state.phase, state.revision ?? '', hook, {
            message,
            type: e.type === 'RolledBack' ? 'Warning' : 'Normal',
            atMs: Date.parse(e.at),
          }),
          this.d.http,
        );
      await this.d.alerter
        .notify(model, e, message)
        .catch((err: unknown) => this.d.log.warn(`alert: ${String(err)}`));
      if (e.type === 'Succeeded' || e.type === 'RolledBack')
        await callHooksOfType(model, state, 'post-rollout', this.d.http);
    }
  }
}

function imageOf(ref: string | undefined): { repository: string; tag: string } | undefined {
  if (!ref) return undefined;
  const at = ref.lastIndexOf(':');
  const slash = ref.lastIndexOf('/');
  return at > slash
    ? { repository: ref.slice(0, at), tag: ref.slice(at + 1) }
    : { repository: ref, tag: 'latest' };
}

/** Flagger's event messages, so alerts and `event` webhooks read the same. */
function describeForPeople(e: RolloutEvent, s: RolloutState): string {
  if (e.type === 'RolledBack') return e.message;
  if (e.type === 'WeightChanged')
    return e.from === e.to ? `Advance iteration ${e.iterations}` : `Advance canary weight ${e.to}`;
  if (e.type === 'Succeeded') return 'Promotion completed! Scaling down canary.';
  if (e.type === 'RolloutStarted') return 'New revision detected! Scaling up canary.';
  return s.message;
}
