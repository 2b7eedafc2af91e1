import { IMAGE_PUSHED_V1, ImagePushedV1Data, stableId, type ImagePushedV1 } from '@capstan/events';

export interface PushedImage {
  registry: string;
  repository: string;
  tag: string;
  digest: string;
  pushedAt: Date;
  pusher?: string;
}

/**
 * The `image.pushed` event for one tag at one digest. The id (and so `Nats-Msg-Id`) depends only
 * on the image, so a notification and a scan that both see the push publish it once; the id is
 * also the correlation id that the policy decision, the commit trailer and the apply carry.
 */
export function imagePushedEvent(image: PushedImage, now: Date): ImagePushedV1 {
  const id = pushId(image);
  return {
    specversion: '1.0',
    id,
    source: '/capstan/registry-watcher',
    type: IMAGE_PUSHED_V1,
    subject: `${image.registry}/${image.repository}:${image.tag}`,
    time: now.toISOString(),
    datacontenttype: 'application/json',
    correlationid: id,
    data: ImagePushedV1Data.parse({
      registry: image.registry,
      repository: image.repository,
      tag: image.tag,
      digest: image.digest,
      pushedAt: image.pushedAt.toISOString(),
      ...(image.pusher ? { pusher: image.pusher } : {}),
    }),
  };
}

export function pushId(image: Pick<PushedImage, 'registry' | 'repository' | 'tag' | 'digest'>): string {
  return stableId('image-pushed', image.registry, image.repository, image.tag, image.digest);
}
