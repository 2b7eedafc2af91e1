import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CLOCK, Readiness, type Clock } from '@capstan/platform';
import { KeptWatch } from '@capstan/kube';
import { KubeSubscriptions } from './kube-subscriptions.js';
import { OutboxRepository } from './outbox.repository.js';
import { SecretCache } from './secret-cache.js';
import {
  CrossNamespaceSubscriptionError,
  InvalidSubscriptionError,
  parseSubscription,
  subscriptionKey,
  type SubscriptionResource,
  type SubscriptionStatus,
} from './subscription.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { WEBHOOK_OPTIONS, type WebhookOptions } from './subscriptions.config.js';
import { deliveryStatus, readyCondition, statusWriteDue, type WrittenStatus } from './subscription-status.js';

export const KUBE_SUBSCRIPTIONS = Symbol('KubeSubscriptions');
export const SECRET_CACHE = Symbol('SecretCache');

/** How often changed delivery counts are written to Subscription status (coalesced per subscription). */
const STATUS_FLUSH_MS = 1_000;
/** At most this often per subscription while only progress (pending, lastDelivered) changes. */
const STATUS_PROGRESS_MS = 5_000;
/** Status PATCHes in flight at once during a flush. */
const STATUS_PATCH_PARALLEL = 8;

/**
 * Keeps the registry in step with Subscription resources, answers each with a Ready condition,
 * and writes delivery progress (lastDelivered, failures, deadLetters) to their status.
 */
@Injectable()
export class SubscriptionWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SubscriptionWatcher.name);
  private watch?: KeptWatch<SubscriptionResource>;
  private readonly dirty = new Set<string>();
  /** The delivery status last written per subscription, to skip unchanged and throttle progress. */
  private readonly written = new Map<string, WrittenStatus>();
  private flushTimer?: NodeJS.Timeout;
  private flushing = Promise.resolve();
  /** Generation last answered per subscription, and whether it was Ready then. */
  private readonly seen = new Map<string, { generation: number; ready: boolean }>();

  constructor(
    @Inject(KUBE_SUBSCRIPTIONS) private readonly kube: KubeSubscriptions,
    @Inject(SECRET_CACHE) private readonly secrets: SecretCache,
    private readonly registry: SubscriptionRegistry,
    private readonly outbox: OutboxRepository,
    private readonly readiness: Readiness,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('subscriptions', () =>
      this.watch?.synced ? Promise.resolve() : Promise.reject(new Error('Subscription watch not synced yet')),
    );
    const informer = this.kube.informer();
    const onUpsert = (obj: SubscriptionResource) => void this.observe(obj);
    informer.on('add', onUpsert);
    informer.on('update', onUpsert);
    informer.on('delete', (obj) => {
      const key = subscriptionKey(obj.metadata.namespace, obj.metadata.name);
      this.registry.remove(key);
      this.seen.delete(key);
      this.written.delete(key);
    });
    this.watch = new KeptWatch(informer, 'Subscriptions', (m) => this.logger.warn(m));
    await this.watch.start();
    this.flushTimer = setInterval(() => {
      this.flushing = this.flushing.then(() => this.flush());
    }, STATUS_FLUSH_MS);
    this.flushTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.watch?.stop();
    await this.flushing;
  }

  /** Delivery counts of this subscription changed; its status is rewritten on the next flush. */
  touched(key: string): void {
    this.dirty.add(key);
  }

  private async observe(obj: SubscriptionResource): Promise<void> {
    const key = subscriptionKey(obj.metadata.namespace, obj.metadata.name);
    const generation = obj.metadata.generation ?? 0;
    // Our own status writes come back as updates; a generation already answered Ready needs nothing.
    const seen = this.seen.get(key);
    if (seen?.generation === generation && seen.ready && this.registry.get(key)) return;
    try {
      const sub = parseSubscription(obj, this.options.allowCrossNamespaceRefs);
      if (seen?.generation !== generation && sub.secretRef)
        this.secrets.forget(sub.namespace, sub.secretRef.name);
      const secretProblem = sub.secretRef
        ? (await this.secrets.token(sub.namespace, sub.secretRef.name)) === null
          ? `secret ${sub.namespace}/${sub.secretRef.name} has no key "token"`
          : null
        : null;
      this.registry.upsert(sub);
      // Only write when something changed, or every update of our own status would trigger another.
      const ready = secretProblem === null;
      this.seen.set(key, { generation, ready });
      const reason = !ready ? 'SecretNotFound' : sub.suspend ? 'Suspended' : 'Subscribed';
      const message =
        secretProblem ??
        (sub.suspend ? 'delivery suspended; deliveries keep queueing' : `delivering to ${sub.url}`);
      const current = obj.status?.conditions?.find((c) => c.type === 'Ready');
      if (
        current?.reason !== reason ||
        current.message !== message ||
        current.observedGeneration !== generation ||
        obj.status?.observedGeneration !== generation
      ) {
        await this.kube.patchStatus(sub.namespace, sub.name, {
          observedGeneration: generation,
          conditions: readyCondition(
            obj.status?.conditions,
            { ready, reason, message, generation },
            this.clock.now(),
          ),
        });
      }
    } catch (e) {
      if (e instanceof InvalidSubscriptionError || e instanceof CrossNamespaceSubscriptionError) {
        const reason = e instanceof CrossNamespaceSubscriptionError ? e.reason : 'InvalidSpec';
        this.registry.remove(key);
        this.seen.set(key, { generation, ready: true });
        await this.kube
          .patchStatus(obj.metadata.namespace, obj.metadata.name, {
            observedGeneration: generation,
            conditions: readyCondition(
              obj.status?.conditions,
              { ready: false, reason, message: e.message, generation },
              this.clock.now(),
            ),
          })
          .catch((err: unknown) => this.logger.warn(`status of ${key}: ${String(err)}`));
        return;
      }
      this.logger.warn(`Subscription ${key}: ${String(e)}`);
    }
  }

  /**
   * Counts every dirty subscription in one query and writes the statuses that are due (see
   * statusWriteDue), a few PATCHes at a time. Runs on its own timer, never on the delivery path.
   */
  private async flush(): Promise<void> {
    const keys = [...this.dirty].filter((k) => this.registry.get(k));
    this.dirty.clear();
    if (keys.length === 0) return;
    let counts: Awaited<ReturnType<OutboxRepository['counts']>>;
    try {
      counts = await this.outbox.counts(keys);
    } catch (e) {
      for (const k of keys) this.dirty.add(k);
      this.logger.warn(`delivery counts: ${String(e)}`);
      return;
    }
    const now = this.clock.now().getTime();
    const due: { key: string; status: SubscriptionStatus }[] = [];
    for (const key of keys) {
      const c = counts.get(key);
      if (!c) continue;
      const status = deliveryStatus(c);
      const previous = this.written.get(key);
      if (statusWriteDue(previous, status, now, STATUS_PROGRESS_MS)) due.push({ key, status });
      // Changed but throttled: look again on a later flush so the last state is written.
      else if (previous && JSON.stringify(previous.status) !== JSON.stringify(status)) this.dirty.add(key);
    }
    for (let i = 0; i < due.length; i += STATUS_PATCH_PARALLEL)
      await Promise.all(
        due.slice(i, i + STATUS_PATCH_PARALLEL).map(async ({ key, status }) => {
          const sub = this.registry.get(key);
          if (!sub) return;
          try {
            await this.kube.patchStatus(sub.namespace, sub.name, status);
            this.written.set(key, { status, at: now });
          } catch (e) {
            this.dirty.add(key);
            this.logger.warn(`status of ${key}: ${String(e)}`);
          }
        }),
      );
  }
}
