import { z } from 'zod';

/** The Subscription custom resource as the audit service reads it (see capstan.dev_subscriptions.yaml). */
export interface SubscriptionResource {
  apiVersion: string;
  kind: 'Subscription';
  metadata: { name: string; namespace: string; uid?: string; generation?: number; resourceVersion?: string };
  spec: unknown;
  status?: SubscriptionStatus;
}

export interface SubscriptionStatus {
  observedGeneration?: number;
  conditions?: {
    type: string;
    status: 'True' | 'False' | 'Unknown';
    observedGeneration?: number;
    lastTransitionTime: string;
    reason: string;
    message: string;
  }[];
  lastDelivered?: { seq: number; eventId: string; time: string };
  failures?: number;
  deadLetters?: number;
  pending?: number;
  lastFailure?: { time: string; message: string };
}

export const SubscriptionFormat = z.enum(['cloudevents', 'cdevents']);
export type SubscriptionFormat = z.infer<typeof SubscriptionFormat>;

const names = z.array(z.string().min(1)).default([]);

/** The spec, validated again here: the CRD schema may be older than this service, or bypassed. */
export const SubscriptionSpec = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  filter: z
    .object({ actions: names, namespaces: names, kinds: names, syncs: names })
    .default({ actions: [], namespaces: [], kinds: [], syncs: [] }),
  secretRef: z.object({ name: z.string().min(1) }).optional(),
  format: SubscriptionFormat.default('cloudevents'),
  suspend: z.boolean().default(false),
});
export type SubscriptionSpec = z.infer<typeof SubscriptionSpec>;

export type SubscriptionFilter = SubscriptionSpec['filter'];

/** A subscription as the fan-out and the workers use it. `key` is "<namespace>/<name>". */
export interface Subscription extends SubscriptionSpec {
  key: string;
  namespace: string;
  name: string;
  generation: number;
}

/** A Subscription whose spec does not validate; the message names the field. */
export class InvalidSubscriptionError extends Error {
  constructor(
    readonly key: string,
    readonly field: string,
    detail: string,
  ) {
    super(`Subscription ${key}: spec.${field} ${detail}`);
    this.name = 'InvalidSubscriptionError';
  }
}

export const subscriptionKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export function parseSubscription(resource: SubscriptionResource): Subscription {
  const { namespace, name, generation } = resource.metadata;
  const key = subscriptionKey(namespace, name);
  const result = SubscriptionSpec.safeParse(resource.spec ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InvalidSubscriptionError(key, issue?.path.join('.') || '?', issue?.message ?? 'is invalid');
  }
  return { ...result.data, key, namespace, name, generation: generation ?? 0 };
}
