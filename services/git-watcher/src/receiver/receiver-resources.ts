import {
  CustomObjectsApi,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubeConfig,
  type ObjectCache,
} from '@kubernetes/client-node';
import { CAPSTAN_GROUP, CAPSTAN_VERSION } from '@capstan/kube';
import type { Condition } from '@capstan/gitops-core';
import type { ReceiverType } from './signature.js';

export interface Receiver {
  apiVersion: 'capstan.dev/v1alpha1';
  kind: 'Receiver';
  metadata: { name: string; namespace: string; generation?: number; uid?: string };
  spec: {
    type: ReceiverType;
    secretRef: { name: string };
    resources: { kind: 'GitRepository'; name: string; namespace?: string }[];
    suspend?: boolean;
  };
  status?: ReceiverStatus;
}

export interface ReceiverStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  webhookPath?: string;
}

const PLURAL = 'receivers';

/** Watches Receivers and writes their status; the Kubernetes side of the webhook endpoint. */
export class ReceiverResources {
  private readonly custom: CustomObjectsApi;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  informer(): Informer<Receiver> & ObjectCache<Receiver> {
    const list = async () =>
      (await this.custom.listClusterCustomObject({
        group: CAPSTAN_GROUP,
        version: CAPSTAN_VERSION,
        plural: PLURAL,
      })) as { items: Receiver[]; metadata: { resourceVersion?: string } };
    return makeInformer(this.kc, `/apis/${CAPSTAN_GROUP}/${CAPSTAN_VERSION}/${PLURAL}`, list);
  }

  async patchStatus(namespace: string, name: string, status: ReceiverStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: CAPSTAN_GROUP, version: CAPSTAN_VERSION, namespace, plural: PLURAL, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
