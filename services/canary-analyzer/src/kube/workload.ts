import type { CanaryModel, Observation, RolloutState } from '@capstan/canary-core';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  apexForTarget,
  configRefsOf,
  isDeploymentReady,
  primaryAutoscaler,
  primaryConfig,
  primaryDeployment,
  services,
  WorkloadError,
  type ConfigRefs,
  type DeploymentLike,
  type Owner,
} from '../domain/workload-objects.js';
import { checksum, revisionOf } from '../domain/revision.js';
import {
  affinityCookie,
  httpRoute,
  revertedHttpRoute,
  trafficSplit,
  type RouteView,
} from '../domain/routes.js';
import type { Cluster } from './cluster.js';

interface ConfigObject extends KubernetesObject {
  data?: Record<string, string>;
  type?: string;
}

/** ConfigMaps/Secrets with this annotation are not tracked (Flagger's opt-out). */
const TRACKING_ANNOTATION = 'flagger.app/config-tracking';

export interface Observed {
  observation: Observation;
  target?: DeploymentLike;
  primaryReplicas?: number;
  tracked: ConfigRefs;
  configs: Map<string, ConfigObject>;
}

/**
 * The analyzer's hands on the workload: what the cluster looks like for a Canary, and making it
 * look like a rollout state says (primary, Services, routes, replicas). Every write is an
 * idempotent apply or scale, so doing it again after a crash is harmless.
 */
export class Workload {
  /** The route last applied per Canary: a tick that changes no weight writes nothing. */
  private readonly applied = new Map<string, string>();

  constructor(private readonly cluster: Cluster) {}

  async observe(model: CanaryModel, owner: Owner): Promise<Observed> {
    const ns = model.namespace;
    const target = await this.cluster.readDeployment(ns, model.target);
    const primary = await this.cluster.readDeployment(ns, `${model.target}-primary`);
    const empty: ConfigRefs = { configMaps: [], secrets: [] };
    if (!target)
      return {
        observation: {
          targetFound: false,
          trackedConfigs: {},
          canaryReady: false,
          primaryReady: primary ? isDeploymentReady(primary) : false,
          initialized: primary !== undefined,
        },
        tracked: empty,
        configs: new Map(),
      };
    const refs = configRefsOf(target.spec?.template);
    const configs = new Map<string, ConfigObject>();
    const tracked: ConfigRefs = { configMaps: [], secrets: [] };
    const trackedConfigs: Record<string, string> = {};
    for (const [kind, names] of [
      ['ConfigMap', refs.configMaps],
      ['Secret', refs.secrets],
    ] as const) {
      for (const name of names) {
        const obj = await this.cluster.read<ConfigObject>('v1', kind, ns, name);
        if (!obj || obj.metadata?.annotations?.[TRACKING_ANNOTATION] === 'disabled') continue;
        configs.set(`${kind}/${name}`, obj);
        (kind === 'ConfigMap' ? tracked.configMaps : tracked.secrets).push(name);
        trackedConfigs[`${kind.toLowerCase()}/${name}`] = checksum(obj.data ?? {});
      }
    }
    const routed = model.router === 'kubernetes' ? true : await this.routeExists(model, owner);
    return {
      observation: {
        targetFound: true,
        revision: revisionOf(target.spec?.template, trackedConfigs),
        trackedConfigs,
        canaryReady: isDeploymentReady(target) && (target.spec?.replicas ?? 0) > 0,
        primaryReady: primary ? isDeploymentReady(primary) : false,
        initialized: primary !== undefined && routed,
      },
      target,
      ...(primary?.spec?.replicas !== undefined ? { primaryReplicas: primary.spec.replicas } : {}),
      tracked,
      configs,
    };
  }

  private async routeExists(model: CanaryModel, owner: Owner): Promise<boolean> {
    const [apiVersion, kind] =
      model.router === 'smi'
        ? ['split.smi-spec.io/v1alpha1', 'TrafficSplit']
        : ['gateway.networking.k8s.io/v1', 'HTTPRoute'];
    // Applied by this process: it exists (a route deleted by hand comes back at the next weight
    // change or restart; reading it on every tick of every Canary was not worth that).
    if (this.applied.has(routeKey(owner, kind))) return true;
    return (await this.cluster.read(apiVersion, kind, model.namespace, model.apex)) !== undefined;
  }

  /** Creates the primary as a copy of the target, the Services and the routes at 0 %, then scales the target to zero. */
  async initialize(model: CanaryModel, observed: Observed, owner: Owner): Promise<void> {
    const target = this.requireTarget(model, observed);
    await this.copyToPrimary(model, target, observed, owner);
    for (const svc of services(model, target, owner)) await this.cluster.apply(svc);
    await this.route(model, { canaryWeight: 0, abActive: false, mirror: false }, owner);
    await this.cluster.scale(model.namespace, model.target, 0);
  }

  /** Promotion: the primary gets the target's pod template and configs (Flagger: template, strategy, configs). */
  async copyToPrimary(
    model: CanaryModel,
    target: DeploymentLike,
    observed: Observed,
    owner: Owner,
  ): Promise<void> {
    for (const [key, obj] of observed.configs) {
      const [kind, name] = key.split('/') as ['ConfigMap' | 'Secret', string];
      await this.cluster.apply(primaryConfig(kind, obj, name, model.namespace, owner));
    }
    const existing = await this.cluster.readDeployment(model.namespace, `${model.target}-primary`);
    // The primary keeps its own scale; a new one starts with the target's (at least one).
    const replicas = existing?.spec?.replicas ?? Math.max(1, target.spec?.replicas ?? 1);
    await this.cluster.apply(primaryDeployment(model, target, observed.tracked, owner, replicas));
    if (model.autoscaler) {
      const hpa = await this.cluster.read<{ spec?: Record<string, unknown> }>(
        'autoscaling/v2',
        'HorizontalPodAutoscaler',
        model.namespace,
        model.autoscaler,
      );
      if (!hpa)
        throw new WorkloadError(
          `HorizontalPodAutoscaler ${model.namespace}/${model.autoscaler}`,
          'not found (spec.autoscalerRef)',
        );
      await this.cluster.apply(primaryAutoscaler(model, hpa, owner));
    }
  }

  /** Makes the cluster match the rollout state: the route's weight and the target's replicas. */
  async converge(model: CanaryModel, state: RolloutState, observed: Observed, owner: Owner): Promise<void> {
    if (state.phase === 'Initializing' || state.phase === 'Terminating' || state.phase === 'Terminated')
      return;
    const running = ['Progressing', 'Waiting', 'WaitingPromotion', 'Promoting'].includes(state.phase);
    const target = observed.target;
    const analysing = running && target !== undefined && state.phase !== 'Promoting';
    // The route first, even without a target: a deleted target must not keep a share of traffic.
    await this.route(
      model,
      {
        canaryWeight: running && target ? state.canaryWeight : 0,
        abActive: analysing && model.strategy === 'ab',
        mirror: analysing && model.mirrorPercent !== undefined,
        ...(model.sessionAffinity && analysing
          ? { cookie: affinityCookie(model.sessionAffinity.cookieName, owner.uid, state.run) }
          : {}),
      },
      owner,
    );
    if (!target) return;
    if (state.phase === 'Promoting') await this.copyToPrimary(model, target, observed, owner);
    const want = running && state.phase !== 'Waiting' ? Math.max(1, observed.primaryReplicas ?? 1) : 0;
    const have = target.spec?.replicas ?? 0;
    // With an autoscalerRef the target's HPA owns its scale during a rollout: we only wake it
    // from zero. Between rollouts the target is at zero, where Kubernetes' HPA does not scale
    // (that is the target autoscaler "paused", as Flagger has it for HPAs).
    const hpaOwnsScale = model.autoscaler !== undefined && want > 0 && have > 0;
    if (have !== want && !hpaOwnsScale) await this.cluster.scale(model.namespace, model.target, want);
  }

  /**
   * revertOnDeletion: the target scaled back to the primary's replicas, the apex Service
   * selecting its pods without an owner (so it outlives the Canary), the Gateway API route
   * pointing at the apex. Returns the replicas once the target is ready, undefined while it is
   * not (the caller asks again). The primary and the other owned objects go with the Canary.
   */
  async revert(model: CanaryModel, observed: Observed, waitForReady: boolean): Promise<number | undefined> {
    const target = observed.target;
    if (!target) return 0;
    const replicas = Math.max(1, observed.primaryReplicas ?? 1);
    if ((target.spec?.replicas ?? 0) === 0) await this.cluster.scale(model.namespace, model.target, replicas);
    if (waitForReady && !observed.observation.canaryReady) return undefined;
    await this.cluster.apply(apexForTarget(model, target));
    if (model.router === 'gatewayapi') await this.cluster.apply(revertedHttpRoute(model));
    return target.spec?.replicas || replicas;
  }

  private async route(model: CanaryModel, view: RouteView, owner: Owner): Promise<void> {
    const obj =
      model.router === 'smi'
        ? trafficSplit(model, view.canaryWeight, owner)
        : model.router === 'gatewayapi'
          ? httpRoute(
              model,
              { ...view, canaryWeight: model.strategy === 'canary' ? view.canaryWeight : 0 },
              owner,
            )
          : undefined;
    if (!obj) return;
    const key = routeKey(owner, obj.kind);
    const text = JSON.stringify(obj);
    if (this.applied.get(key) === text) return;
    await this.cluster.apply(obj);
    this.applied.set(key, text);
  }

  private requireTarget(model: CanaryModel, observed: Observed): DeploymentLike {
    if (!observed.target)
      throw new WorkloadError(`Deployment ${model.namespace}/${model.target}`, 'not found (spec.targetRef)');
    return observed.target;
  }
}

const routeKey = (owner: Owner, kind: string) => `${owner.uid}/${kind}`;
