import { z } from 'zod';
import { CROSS_NAMESPACE_REASON } from '@capstan/gitops-core';

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

/**
 * cloudevents (generic JSON, every matching decision), cdevents, the chat services' incoming
 * webhooks, and the GitHub/GitLab commit-status APIs (whose token is the secret's `token`).
 */
export const SubscriptionFormat = z.enum([
  'cloudevents',
  'cdevents',
  'slack',
  'msteams',
  'discord',
  'googlechat',
  'github',
  'gitlab',
]);
export type SubscriptionFormat = z.infer<typeof SubscriptionFormat>;

/** Formats whose secret is an API token rather than an HMAC key. */
export const COMMIT_STATUS_FORMATS: ReadonlySet<SubscriptionFormat> = new Set(['github', 'gitlab']);

const names = z.array(z.string().min(1)).default([]);

/** The spec, validated again here: the CRD schema may be older than this service, or bypassed. */
export const SubscriptionSpec = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    filter: z
      .object({ actions: names, namespaces: names, kinds: names, syncs: names })
      .default({ actions: [], namespaces: [], kinds: [], syncs: [] }),
    secretRef: z.object({ name: z.string().min(1) }).optional(),
    format: SubscriptionFormat.default('cloudevents'),
    suspend: z.boolean().default(false),
  })
  .refine((spec) => !COMMIT_STATUS_FORMATS.has(spec.format) || spec.secretRef !== undefined, {
    path: ['secretRef'],
    message: 'is required by the github and gitlab formats (the API token is its key `token`)',
  });
export type SubscriptionSpec = z.infer<typeof SubscriptionSpec>;

export type SubscriptionFilter = SubscriptionSpec['filter'];

/** A subscription as the fan-out and the workers use it. `key` is "<namespace>/<name>". */
export interface Subscription extends SubscriptionSpec {
  key: string;
  namespace: string;
  name: string;
  generation: number;
  /**
   * `namespace`: only decisions made in the Subscription's own namespace reach it (tenants
   * apart, the default); `cluster`: any namespace, as its filter says.
   */
  scope: 'namespace' | 'cluster';
}

/** A Subscription whose filter names another namespace where tenants are kept apart. */
export class CrossNamespaceSubscriptionError extends Error {
  readonly reason = CROSS_NAMESPACE_REASON;
  constructor(key: string, refs: readonly string[]) {
    super(
      `Subscription ${key}: spec.filter names ${refs.join(', ')} outside its namespace; cross-namespace references are off in this installation`,
    );
    this.name = 'CrossNamespaceSubscriptionError';
  }
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

/**
 * `allowCrossNamespace` false (the default installation): a filter naming another namespace
 * (`namespaces`, or `syncs` as `<namespace>/<name>`) is refused, and the subscription is scoped
 * to its own namespace's decisions.
 */
export function parseSubscription(resource: SubscriptionResource, allowCrossNamespace = true): Subscription {
  const { namespace, name, generation } = resource.metadata;
  const key = subscriptionKey(namespace, name);
  const result = SubscriptionSpec.safeParse(resource.spec ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InvalidSubscriptionError(key, issue?.path.join('.') || '?', issue?.message ?? 'is invalid');
  }
  const spec = result.data;
  if (!allowCrossNamespace) {
    const foreign = [
      ...spec.filter.namespaces.filter((ns) => ns !== namespace).map((ns) => `namespace ${ns}`),
      ...spec.filter.syncs
        .filter((s) => s.includes('/') && s.split('/')[0] !== namespace)
        .map((s) => `Sync ${s}`),
    ];
    if (foreign.length > 0) throw new CrossNamespaceSubscriptionError(key, foreign);
  }
  return {
    ...spec,
    key,
    namespace,
    name,
    generation: generation ?? 0,
    scope: allowCrossNamespace ? 'cluster' : 'namespace',
  };
}
