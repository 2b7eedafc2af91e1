import { z } from 'zod';
import { Timestamp } from './common.js';
import { cloudEvent } from './envelope.js';

export const IMAGE_PUSHED_V1 = 'dev.capstan.registry.image.pushed.v1';

export const ImagePushedV1Data = z.object({
  registry: z.string(),
  repository: z.string(),
  tag: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  pushedAt: Timestamp,
  /** The registry account that pushed, when the registry tells us. */
  pusher: z.string().optional(),
});
export type ImagePushedV1Data = z.infer<typeof ImagePushedV1Data>;
export const ImagePushedV1 = cloudEvent(IMAGE_PUSHED_V1, ImagePushedV1Data);
export type ImagePushedV1 = z.infer<typeof ImagePushedV1>;

/**
 * The Git trailer an image automation commit carries: the correlation id of the push that caused
 * it (the `image.pushed` event id). The reconciler reuses it for the apply's decision, so one id
 * runs from the registry push to the Deployment updated.
 */
export const CORRELATION_TRAILER = 'Capstan-Correlation-Id';

/** The correlation id in a commit message's trailer, if it has one. Pure. */
export function correlationIdFromCommit(message: string): string | undefined {
  const m = new RegExp(`^${CORRELATION_TRAILER}:[ \\t]*(\\S+)[ \\t]*$`, 'm').exec(message);
  return m?.[1];
}
