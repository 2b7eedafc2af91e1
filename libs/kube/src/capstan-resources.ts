import type { CommitVerification } from '@capstan/events';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Condition, GitRef } from '@capstan/gitops-core';
import { customInformer, patchCustomStatus, type CustomInformer, type CustomKind } from './custom-kind.js';

export const CAPSTAN_GROUP = 'capstan.dev';
export const CAPSTAN_VERSION = 'v1alpha1';
export const CAPSTAN_API_VERSION = `${CAPSTAN_GROUP}/${CAPSTAN_VERSION}`;

/** A kind of Capstan's own API group (capstan.dev/v1alpha1) by its plural. */
export function capstanKind(plural: string): CustomKind {
  return { group: CAPSTAN_GROUP, version: CAPSTAN_VERSION, plural };
}

interface Meta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  annotations?: Record<string, string>;
}

export interface GitRepository {
  apiVersion: typeof CAPSTAN_API_VERSION;
  kind: 'GitRepository';
  metadata: Meta;
  spec: {
    url: string;
    ref?: GitRef;
    interval?: string;
    timeout?: string;
    secretRef?: { name: string };
    suspend?: boolean;
    ignore?: string;
  };
  status?: GitRepositoryStatus;
}

export interface GitRepositoryStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  artifact?: { revision: string; sha: string; observedAt: string; verification?: CommitVerification | null };
}

export interface Sync {
  apiVersion: typeof CAPSTAN_API_VERSION;
  kind: 'Sync';
  metadata: Meta;
  spec: {
    sourceRef: { kind: 'GitRepository'; name: string; namespace?: string };
    path?: string;
    interval?: string;
    prune?: boolean;
    suspend?: boolean;
    targetNamespace?: string;
    timeout?: string;
    wait?: boolean;
    force?: boolean;
    driftPolicy?: 'correct' | 'warn';
    dependsOn?: { name: string; namespace?: string }[];
    verification?: { required?: boolean };
    /** ServiceAccount in the Sync's namespace that everything the Sync does to the cluster impersonates. */
    serviceAccountName?: string;
  };
  status?: SyncStatus;
}

export interface SyncStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  inventory?: { entries: { id: string; v: string }[] };
  /** The reconcile-requested-at annotation value last handled (Flux's lastHandledReconcileAt). */
  lastHandledReconcileAt?: string;
  /** The HelmReleases of the last attempted revision, each its own release with its own state. */
  releases?: SyncReleaseStatus[];
}

export interface SyncReleaseStatus {
  namespace: string;
  name: string;
  /** Where the HelmRelease is declared. */
  file: string;
  /** `Deployed` or `Failed`, as Helm Operator's phase said. */
  phase: 'Deployed' | 'Failed';
  message: string;
  /** The revision this state is about. */
  revision: string;
}

const PLURAL = { GitRepository: 'gitrepositories', Sync: 'syncs' } as const;
type CapstanKind = keyof typeof PLURAL;
type ResourceOf<K extends CapstanKind> = K extends 'GitRepository' ? GitRepository : Sync;

/** Reads, watches and updates status of Capstan's own custom resources. */
export class CapstanResources {
  private readonly custom: CustomObjectsApi;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async get<K extends CapstanKind>(kind: K, namespace: string, name: string): Promise<ResourceOf<K>> {
    return (await this.custom.getNamespacedCustomObject({
      group: CAPSTAN_GROUP,
      version: CAPSTAN_VERSION,
      namespace,
      plural: PLURAL[kind],
      name,
    })) as ResourceOf<K>;
  }

  async list<K extends CapstanKind>(kind: K): Promise<ResourceOf<K>[]> {
    const list = (await this.custom.listClusterCustomObject({
      group: CAPSTAN_GROUP,
      version: CAPSTAN_VERSION,
      plural: PLURAL[kind],
    })) as {
      items: ResourceOf<K>[];
    };
    return list.items;
  }

  /** A cluster-wide informer: one watch for all objects of the kind, resumed by the client on errors. */
  informer<K extends CapstanKind>(kind: K): CustomInformer<ResourceOf<K>> {
    return customInformer(this.kc, this.custom, capstanKind(PLURAL[kind]));
  }

  /** Sets an annotation on the object (merge patch of metadata only; spec is untouched). */
  async annotate(
    kind: CapstanKind,
    namespace: string,
    name: string,
    annotations: Record<string, string>,
  ): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      {
        group: CAPSTAN_GROUP,
        version: CAPSTAN_VERSION,
        namespace,
        plural: PLURAL[kind],
        name,
        body: { metadata: { annotations } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** Merge-patches the status subresource; status is only ever written through here. */
  async patchStatus<K extends CapstanKind>(
    kind: K,
    namespace: string,
    name: string,
    status: ResourceOf<K>['status'],
  ): Promise<void> {
    await patchCustomStatus(this.custom, capstanKind(PLURAL[kind]), namespace, name, status);
  }
}

export type ResourceInformer<T extends GitRepository | Sync> = CustomInformer<T>;
