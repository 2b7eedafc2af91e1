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
import type { ImageKind, ImageObjectOf, StatusOf } from './image-types.js';

const PLURAL: Record<ImageKind, string> = {
  ImageRepository: 'imagerepositories',
  ImagePolicy: 'imagepolicies',
  ImageUpdateAutomation: 'imageupdateautomations',
};

export type ImageInformer<K extends ImageKind> = Informer<ImageObjectOf<K>> & ObjectCache<ImageObjectOf<K>>;

/** Watches the image automation kinds and writes their status; the Kubernetes side of the service. */
export class ImageResources {
  private readonly custom: CustomObjectsApi;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  informer<K extends ImageKind>(kind: K): ImageInformer<K> {
    const list = async () =>
      (await this.custom.listClusterCustomObject({
        group: CAPSTAN_GROUP,
        version: CAPSTAN_VERSION,
        plural: PLURAL[kind],
      })) as { items: ImageObjectOf<K>[]; metadata: { resourceVersion?: string } };
    return makeInformer(this.kc, `/apis/${CAPSTAN_GROUP}/${CAPSTAN_VERSION}/${PLURAL[kind]}`, list);
  }

  async patchStatus<K extends ImageKind>(
    kind: K,
    namespace: string,
    name: string,
    status: StatusOf<K>,
  ): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: CAPSTAN_GROUP,
        version: CAPSTAN_VERSION,
        namespace,
        plural: PLURAL[kind],
        name,
        body: { status },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
