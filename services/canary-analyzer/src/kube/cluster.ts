import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { ObjectApi, customInformer, patchCustomStatus, type CustomInformer } from '@capstan/kube';
import type { DeploymentLike, Obj } from '../domain/workload-objects.js';
import { DeploymentCache } from './deployment-cache.js';

export interface CanaryResource extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: Date;
    finalizers?: string[];
  };
  spec?: unknown;
  status?: {
    conditions?: {
      type: string;
      status: 'True' | 'False' | 'Unknown';
      lastTransitionTime: string;
      reason: string;
      message: string;
    }[];
  };
}

export const CANARY_VERSIONS = [
  { group: 'flagger.app', version: 'v1beta1' },
  { group: 'capstan.dev', version: 'v1alpha1' },
] as const;

const is404 = (e: unknown) => (e as { code?: number }).code === 404;

/** Kubernetes adapter of the analyzer: reads, server-side applies, scales and writes status. */
export class Cluster {
  readonly api: ObjectApi;
  private readonly custom: CustomObjectsApi;
  /** Deployments from a watch, when one runs for the namespace (see DeploymentCache). */
  deployments?: DeploymentCache;

  constructor(
    private readonly kc: KubeConfig,
    private readonly fieldManager: string,
  ) {
    this.api = ObjectApi.fromKubeConfig(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  canaryInformer(group: string, version: string): CustomInformer<CanaryResource> {
    return customInformer(this.kc, this.custom, { group, version, plural: 'canaries' });
  }

  async read<T>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await this.api.read({ apiVersion, kind, metadata: { name, namespace } })) as T;
    } catch (e) {
      if (is404(e)) return undefined;
      throw e;
    }
  }

  readDeployment(namespace: string, name: string): Promise<(DeploymentLike & KubernetesObject) | undefined> {
    if (this.deployments?.covers(namespace)) return Promise.resolve(this.deployments.get(namespace, name));
    return this.read('apps/v1', 'Deployment', namespace, name);
  }

  /** The watch behind `readDeployment`, for the namespaces the analyzer drives (empty: all). */
  async watchDeployments(namespaces: readonly string[], warn: (m: string) => void): Promise<void> {
    this.deployments = new DeploymentCache(this.kc, this.api, namespaces, warn);
    await this.deployments.start();
  }

  async apply(obj: Obj): Promise<void> {
    await this.api.applyRaw(obj as KubernetesObject, { fieldManager: this.fieldManager, force: true });
  }

  /** Replicas of a Deployment we do not own (the target): a merge patch, not an apply. */
  async scale(namespace: string, name: string, replicas: number): Promise<void> {
    await this.api.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace },
        spec: { replicas },
      } as KubernetesObject,
      undefined,
      undefined,
      this.fieldManager,
      undefined,
      PatchStrategy.MergePatch,
    );
  }

  /**
   * Sets the Canary's finalizers (a merge patch of the whole list, guarded by the resourceVersion
   * it was computed from: a concurrent change fails with 409 and the next tick tries again).
   */
  async setCanaryFinalizers(canary: CanaryResource, finalizers: string[]): Promise<void> {
    const [group, version] = canary.apiVersion.split('/') as [string, string];
    await this.custom.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace: canary.metadata.namespace,
        plural: 'canaries',
        name: canary.metadata.name,
        body: {
          metadata: {
            finalizers: finalizers.length > 0 ? finalizers : null,
            ...(canary.metadata.resourceVersion ? { resourceVersion: canary.metadata.resourceVersion } : {}),
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async patchCanaryStatus(canary: CanaryResource, status: Record<string, unknown>): Promise<void> {
    const [group, version] = canary.apiVersion.split('/') as [string, string];
    await patchCustomStatus(
      this.custom,
      { group, version, plural: 'canaries' },
      canary.metadata.namespace,
      canary.metadata.name,
      status,
    );
  }
}
