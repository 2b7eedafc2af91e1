import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { capstanKind, customInformer, patchCustomStatus, type CustomInformer } from '@capstan/kube';
import type { SubscriptionResource, SubscriptionStatus } from './subscription.js';

const SUBSCRIPTIONS = capstanKind('subscriptions');

/** Kubernetes adapter: the Subscription watch, status writes and the HMAC secrets. */
export class KubeSubscriptions {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  informer(): CustomInformer<SubscriptionResource> {
    return customInformer(this.kc, this.custom, SUBSCRIPTIONS);
  }

  async patchStatus(namespace: string, name: string, status: SubscriptionStatus): Promise<void> {
    await patchCustomStatus(this.custom, SUBSCRIPTIONS, namespace, name, status);
  }

  /** The `token` key of a Secret, or null when the secret or the key is missing. */
  async readToken(namespace: string, name: string): Promise<string | null> {
    try {
      const secret = await this.core.readNamespacedSecret({ namespace, name });
      const value = secret.data?.['token'];
      return value === undefined ? null : Buffer.from(value, 'base64').toString('utf8');
    } catch (e) {
      if ((e as { code?: number }).code === 404) return null;
      throw e;
    }
  }
}
