import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { capstanKind, customInformer, patchCustomStatus, type CustomInformer } from '@capstan/kube';
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

const RECEIVERS = capstanKind('receivers');

/** Watches Receivers and writes their status; the Kubernetes side of the webhook endpoint. */
export class ReceiverResources {
  private readonly custom: CustomObjectsApi;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  informer(): CustomInformer<Receiver> {
    return customInformer(this.kc, this.custom, RECEIVERS);
  }

  async patchStatus(namespace: string, name: string, status: ReceiverStatus): Promise<void> {
    await patchCustomStatus(this.custom, RECEIVERS, namespace, name, status);
  }
}
