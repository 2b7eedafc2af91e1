import { Inject, Injectable } from '@nestjs/common';
import { Bus } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import { REGISTRY_WATCHER_CONFIG, type RegistryWatcherConfig } from '../config.js';
import { imagePushedEvent } from '../domain/image-event.js';
import { checkNotificationAuth } from '../domain/notification-auth.js';
import { NotificationError, parseNotification, type NotificationFormat } from '../domain/notifications.js';
import { RegistryWatcherMetrics } from '../metrics.js';
import { RepositoryScanner } from '../scanning/repository-scanner.js';
import { ScanScheduler } from '../scanning/scan-scheduler.js';
import { SeenStore } from '../scanning/seen-store.js';

export type NotificationOutcome =
  | { kind: 'unauthorized'; reason: string }
  | { kind: 'malformed'; reason: string }
  | { kind: 'accepted'; published: number; duplicates: number; ignored: number; scans: number };

/**
 * Registry push webhooks: authenticate, keep manifest pushes by tag, publish `image.pushed` for
 * those with a digest (idempotent: the event id is the image's, and event ids seen recently are
 * skipped), and scan the repositories they name at once. Order across deliveries is not assumed.
 */
@Injectable()
export class NotificationService {
  private readonly recent = new Set<string>();

  constructor(
    private readonly bus: Bus,
    private readonly store: SeenStore,
    private readonly scheduler: ScanScheduler,
    private readonly scanner: RepositoryScanner,
    private readonly metrics: RegistryWatcherMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REGISTRY_WATCHER_CONFIG) private readonly config: RegistryWatcherConfig,
  ) {}

  async receive(
    format: NotificationFormat,
    headers: Record<string, string | string[] | undefined>,
    query: Record<string, unknown>,
    rawBody: Buffer,
  ): Promise<NotificationOutcome> {
    const auth = checkNotificationAuth(format, headers, query, rawBody, {
      ...(this.config.REGISTRY_WEBHOOK_TOKEN ? { token: this.config.REGISTRY_WEBHOOK_TOKEN } : {}),
      ...(this.config.REGISTRY_WEBHOOK_HMAC_SECRET
        ? { hmacSecret: this.config.REGISTRY_WEBHOOK_HMAC_SECRET }
        : {}),
    });
    if (!auth.ok) {
      this.metrics.notifications.inc({ format, result: 'unauthorized' });
      return { kind: 'unauthorized', reason: auth.reason };
    }
    let parsed;
    try {
      parsed = parseNotification(format, JSON.parse(rawBody.toString('utf8')) as unknown);
    } catch (e) {
      this.metrics.notifications.inc({ format, result: 'malformed' });
      const reason =
        e instanceof NotificationError ? e.message : `malformed ${format} notification: body is not JSON`;
      return { kind: 'malformed', reason };
    }
    let published = 0;
    let duplicates = 0;
    const repositories = new Set<string>();
    for (const n of parsed.notices) {
      const repository = `${n.registry}/${n.repository}`;
      repositories.add(repository);
      if (this.recent.has(n.eventId)) {
        duplicates++;
        continue;
      }
      if (!n.digest) {
        if (n.pusher) this.scanner.notePusher(repository, n.tag, n.pusher);
        continue;
      }
      await this.store.remember(repository, n.tag, n.digest);
      const ack = await this.bus.publish(
        imagePushedEvent(
          {
            registry: n.registry,
            repository: n.repository,
            tag: n.tag,
            digest: n.digest,
            pushedAt: n.pushedAt.getTime() > 0 ? n.pushedAt : this.clock.now(),
            ...(n.pusher ? { pusher: n.pusher } : {}),
          },
          this.clock.now(),
        ),
      );
      this.remember(n.eventId);
      if (ack.duplicate) duplicates++;
      else {
        published++;
        this.metrics.published.inc({ source: 'notification' });
      }
    }
    let scans = 0;
    for (const r of repositories) scans += this.scheduler.requestScan(r);
    this.metrics.notifications.inc({ format, result: 'accepted' });
    return { kind: 'accepted', published, duplicates, ignored: parsed.ignored, scans };
  }

  private remember(id: string): void {
    // Bounded: JetStream's duplicate window is the real guard; this saves the round trip.
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.add(id);
  }
}
