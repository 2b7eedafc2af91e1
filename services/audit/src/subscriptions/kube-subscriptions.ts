import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { SubscriptionResource, SubscriptionStatus } from './subscription.js';

const GROUP = 'capstan.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'subscriptions';

/** Kubernetes adapter: the Subscription watch, status writes and the HMAC secrets. */
export class KubeSubscriptions {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  informer(): Informer<SubscriptionResource> & ObjectCache<SubscriptionResource> {
    return makeInformer(this.kc, `/apis/${GROUP}/${VERSION}/${PLURAL}`, async () => {
      return (await this.custom.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
      })) as {
        items: SubscriptionResource[];
        metadata: { resourceVersion?: string };
      };
    });
  }

  async patchStatus(namespace: string, name: string, status: SubscriptionStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
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
