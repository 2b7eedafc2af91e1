import type { KubeConfig } from '@kubernetes/client-node';
import {
  HealthChecker,
  type ObjectApi,
  Pruner,
  ServerSideApplier,
  impersonatingKubeConfig,
  serviceAccountUser,
  type ServiceAccountRef,
} from '@capstan/kube';
import { KubeValuesSource, type ValuesSource } from '@capstan/render';
import type { Clock } from '@capstan/platform';
import { HookRunner } from '../reconcile/hooks/hook-runner.js';

/**
 * Everything a reconcile does to the cluster on a tenant's behalf, as one identity: the dry-run
 * and the apply, prune, health reads, hooks, valuesFrom reads and drift corrections.
 */
export interface TenantClient {
  /** The impersonated ServiceAccount; undefined for the reconciler's own identity. */
  identity?: ServiceAccountRef;
  api: ObjectApi;
  applier: ServerSideApplier;
  pruner: Pruner;
  health: HealthChecker;
  hooks: HookRunner;
  values: ValuesSource;
}

/**
 * One client set per (namespace, ServiceAccount), kept while used. An entry is a few small
 * objects sharing the base's connection pool and discovery cache (see impersonatingKubeConfig
 * and ObjectApi.withKubeConfig), so a thousand tenants cost a thousand entries, not a thousand
 * connection pools or discovery walks. The least recently used go first past `limit`.
 */
export class TenantClients {
  private readonly own: TenantClient;
  private readonly cache = new Map<string, TenantClient>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly base: ObjectApi,
    private readonly clock: Clock,
    private readonly limit: number,
  ) {
    this.own = this.build(kc, undefined);
  }

  /** The client set acting as `identity`; the reconciler's own when undefined. */
  for(identity: ServiceAccountRef | undefined): TenantClient {
    if (!identity) return this.own;
    const key = `${identity.namespace}/${identity.name}`;
    const hit = this.cache.get(key);
    if (hit) {
      // Map order is insertion order: moving the entry to the end keeps the eviction LRU.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const client = this.build(impersonatingKubeConfig(this.kc, serviceAccountUser(identity)), identity);
    this.cache.set(key, client);
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= this.limit) break;
      this.cache.delete(oldest);
    }
    return client;
  }

  /** Entries kept (for the benchmark and metrics). */
  get size(): number {
    return this.cache.size;
  }

  private build(kc: KubeConfig, identity: ServiceAccountRef | undefined): TenantClient {
    const api = this.base.withKubeConfig(kc);
    const applier = new ServerSideApplier(api);
    const health = new HealthChecker(api);
    return {
      ...(identity ? { identity } : {}),
      api,
      applier,
      pruner: new Pruner(api),
      health,
      hooks: new HookRunner(api, applier, health, this.clock),
      values: new KubeValuesSource(kc),
    };
  }
}
