import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CoreV1Api, CustomObjectsApi, makeInformer, type KubeConfig } from '@kubernetes/client-node';
import { KeptWatch, isNotFound } from '@capstan/kube';
import {
  governing,
  needsNamespaceLabels,
  parseTenancyPolicy,
  type TenancyPolicy,
} from '@capstan/gitops-core';
import { RECONCILER_CONFIG, type ReconcilerConfig } from '../config.js';

export const TENANCY_KUBECONFIG = Symbol('TenancyKubeConfig');

interface PolicyObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; resourceVersion?: string };
  spec?: unknown;
}

/** The TenancyPolicy watch has not listed yet: nothing is applied until it has (fail closed). */
export class PoliciesNotListedError extends Error {
  override readonly name = 'PoliciesNotListedError';
  constructor() {
    super('TenancyPolicies not listed yet; the Sync is tried again');
  }
}

/**
 * The cluster's TenancyPolicies (capstan.dev/v1alpha1, cluster-scoped) from one watch, and
 * which of them govern a namespace. Off unless TENANCY_POLICIES=enabled; then it fails closed: a
 * Sync is not applied before the policies are listed. A policy that does not read is left out
 * with a warning (the CRD's schema already refuses what this parser would).
 */
@Injectable()
export class TenancyPolicies implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TenancyPolicies');
  private readonly enabled: boolean;
  private readonly policies = new Map<string, TenancyPolicy>();
  private watch?: KeptWatch<PolicyObject>;
  private readonly core: CoreV1Api;

  constructor(
    @Inject(TENANCY_KUBECONFIG) private readonly kc: KubeConfig,
    @Inject(RECONCILER_CONFIG) config: ReconcilerConfig,
  ) {
    this.enabled = config.TENANCY_POLICIES === 'enabled';
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const list = { group: 'capstan.dev', version: 'v1alpha1', plural: 'tenancypolicies' };
    const informer = makeInformer<PolicyObject>(
      this.kc,
      '/apis/capstan.dev/v1alpha1/tenancypolicies',
      async () =>
        (await custom.listClusterCustomObject(list)) as {
          items: PolicyObject[];
          metadata: { resourceVersion?: string };
        },
    );
    const upsert = (o: PolicyObject) => {
      try {
        this.policies.set(o.metadata.name, parseTenancyPolicy(o));
      } catch (e) {
        this.policies.delete(o.metadata.name);
        this.logger.warn(`${String(e instanceof Error ? e.message : e)}; the policy is not enforced`);
      }
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (o) => this.policies.delete(o.metadata.name));
    this.watch = new KeptWatch(informer, 'TenancyPolicies', (m) => this.logger.warn(m));
    await this.watch.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.watch?.stop();
  }

  /** The policies governing `namespace`; [] when policies are off or none applies. */
  async governing(namespace: string): Promise<TenancyPolicy[]> {
    if (!this.enabled) return [];
    if (!this.watch?.synced) throw new PoliciesNotListedError();
    const all = [...this.policies.values()];
    if (all.length === 0) return [];
    const labels = needsNamespaceLabels(all) ? await this.namespaceLabels(namespace) : {};
    return governing(all, { name: namespace, labels });
  }

  private async namespaceLabels(name: string): Promise<Record<string, string>> {
    try {
      return (await this.core.readNamespace({ name })).metadata?.labels ?? {};
    } catch (e) {
      if (isNotFound(e)) return {};
      throw e;
    }
  }
}
