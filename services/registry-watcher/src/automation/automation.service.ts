import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy } from '@nats-io/jetstream';
import {
  decodeEvent,
  DEPLOY_DECISION_RECORDED_V1,
  IMAGE_PUSHED_V1,
  type ImagePushedV1,
} from '@capstan/events';
import { parseDuration } from '@capstan/gitops-core';
import { Bus, startConsumer, type RunningConsumer } from '@capstan/messaging';
import { ImageWatch } from '../resources/image-watch.service.js';
import type { ImageUpdateAutomation } from '../resources/image-types.js';
import { SeenStore } from '../scanning/seen-store.js';
import { AutomationRunner } from './automation-runner.js';
import { CanaryFailures } from './canary-failures.js';
import { CoalescingQueue } from './run-queue.js';

/**
 * Drives automation runs: every `image.pushed` (from any replica's scan or notification) runs the
 * automations at once, coalesced per automation; each automation also runs on its interval and
 * when its spec changes. Canary failures are read from the decision stream from its start, so a
 * restarted watcher still knows them.
 */
@Injectable()
export class AutomationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ImageAutomation');
  private consumer?: RunningConsumer;
  private readonly timers = new Map<string, { timer?: NodeJS.Timeout; generation?: number }>();
  private readonly queue: CoalescingQueue<ImagePushedV1 | undefined>;
  private stopCanaryFeed?: () => void;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly watch: ImageWatch,
    private readonly runner: AutomationRunner,
    private readonly store: SeenStore,
    private readonly canaryFailures: CanaryFailures,
  ) {
    this.queue = new CoalescingQueue(async (key, items) => {
      const [namespace = '', name = ''] = key.split('/');
      const automation = this.watch.automation(namespace, name);
      if (!automation || automation.spec.suspend) return;
      const pushes = items.filter((i): i is ImagePushedV1 => i !== undefined);
      await this.runner.run(automation, pushes, `run:${randomUUID()}`);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.watch.onAutomation((kind, a) => (kind === 'upsert' ? this.upsert(a) : this.remove(a)));
    await this.followCanaryFailures();
    this.consumer = await startConsumer(this.bus, {
      durable: 'registry-watcher-automation',
      family: 'registry',
      concurrency: 8,
      ackWaitMs: 120_000,
      handler: async (event) => {
        if (event.type !== IMAGE_PUSHED_V1) return;
        await this.onPushed(event);
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.stopCanaryFeed?.();
    await this.consumer?.stop();
  }

  /** Runs every automation for one push; resolves when the runs that covered it are done. */
  async onPushed(event: ImagePushedV1): Promise<void> {
    const { registry, repository, tag, digest } = event.data;
    await this.store.remember(`${registry}/${repository}`, tag, digest);
    await Promise.all(
      this.watch
        .automations()
        .filter((a) => !a.spec.suspend)
        .map((a) => this.queue.submit(keyOf(a), event)),
    );
  }

  /** Runs one automation now (no push): what `interval` and spec changes do. */
  runNow(automation: ImageUpdateAutomation): Promise<void> {
    return this.queue.submit(keyOf(automation), undefined);
  }

  private upsert(a: ImageUpdateAutomation): void {
    const key = keyOf(a);
    const t = this.timers.get(key) ?? {};
    this.timers.set(key, t);
    if (a.spec.suspend) {
      clearTimeout(t.timer);
      return;
    }
    if (t.generation === a.metadata.generation) return;
    t.generation = a.metadata.generation;
    this.arm(key, 0);
  }

  private remove(a: ImageUpdateAutomation): void {
    const key = keyOf(a);
    clearTimeout(this.timers.get(key)?.timer);
    this.timers.delete(key);
  }

  private arm(key: string, delay: number): void {
    const t = this.timers.get(key);
    if (!t || this.stopped) return;
    clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      const [namespace = '', name = ''] = key.split('/');
      const a = this.watch.automation(namespace, name);
      if (!a) return;
      void this.runNow(a)
        .catch((e: unknown) => this.logger.warn(`${key}: ${String(e)}`))
        .finally(() => this.arm(key, intervalOf(a)));
    }, delay);
  }

  /** An ordered consumer over Canary decisions from the stream's start: rebuilt at every start. */
  private async followCanaryFailures(): Promise<void> {
    const stream = this.bus.topology.streams.events.name;
    const consumer = await this.bus.js.consumers.get(stream, {
      // One subject as a string: `filter_subjects` lists need NATS 2.10; the machines run 2.9.
      filter_subjects: `${this.bus.topology.prefix}.decisions.Canary.>`,
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await consumer.consume();
    this.stopCanaryFeed = () => void messages.close();
    void (async () => {
      for await (const m of messages) {
        try {
          const e = decodeEvent(m.data);
          if (e.type === DEPLOY_DECISION_RECORDED_V1) this.canaryFailures.record(e.data);
        } catch (err) {
          this.logger.warn(`canary decision ignored: ${String(err)}`);
        }
      }
    })();
  }
}

function keyOf(a: ImageUpdateAutomation): string {
  return `${a.metadata.namespace}/${a.metadata.name}`;
}

function intervalOf(a: ImageUpdateAutomation): number {
  try {
    return parseDuration(a.spec.interval ?? '5m');
  } catch {
    return 300_000;
  }
}
