import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { capstanKind, customInformer, patchCustomStatus, type CustomInformer } from '@capstan/kube';
import type { ImageKind, ImageObjectOf, StatusOf } from './image-types.js';

const PLURAL: Record<ImageKind, string> = {
  ImageRepository: 'imagerepositories',
  ImagePolicy: 'imagepolicies',
  ImageUpdateAutomation: 'imageupdateautomations',
};

export type ImageInformer<K extends ImageKind> = CustomInformer<ImageObjectOf<K>>;

const imageKind = (kind: ImageKind) => capstanKind(PLURAL[kind]);

/** Watches the image automation kinds and writes their status; the Kubernetes side of the service. */
export class ImageResources {
  private readonly custom: CustomObjectsApi;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  informer<K extends ImageKind>(kind: K): ImageInformer<K> {
    return customInformer(this.kc, this.custom, imageKind(kind));
  }

  async patchStatus<K extends ImageKind>(
    kind: K,
    namespace: string,
    name: string,
    status: StatusOf<K>,
  ): Promise<void> {
    await patchCustomStatus(this.custom, imageKind(kind), namespace, name, status);
  }
}
