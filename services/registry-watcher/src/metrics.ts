import { Counter, type Gauge, type Registry } from 'prom-client';
import { capstanGauge } from '@capstan/platform';

/** The registry-watcher's own series; `service` is added by ObservabilityModule. */
export class RegistryWatcherMetrics {
  readonly requests: Counter<'registry' | 'method' | 'status'>;
  readonly rateLimitRemaining: Gauge<'registry'>;
  readonly rateLimitLimit: Gauge<'registry'>;
  readonly scans: Counter<'result'>;
  readonly published: Counter<'source'>;
  readonly notifications: Counter<'format' | 'result'>;
  readonly automationRuns: Counter<'result'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'capstan_registry_requests_total',
      help: 'HTTP requests sent to container registries, by answer status',
      labelNames: ['registry', 'method', 'status'],
      registers: [registry],
    });
    // Named in the shared catalogue: the chart's alert and image dashboard read them.
    this.rateLimitRemaining = capstanGauge(registry, 'registryRateLimitRemaining');
    this.rateLimitLimit = capstanGauge(registry, 'registryRateLimitLimit');
    this.scans = new Counter({
      name: 'capstan_image_repository_scans_total',
      help: 'ImageRepository scans, by result',
      labelNames: ['result'],
      registers: [registry],
    });
    this.published = new Counter({
      name: 'capstan_image_pushed_published_total',
      help: 'image.pushed events published (duplicates dropped by JetStream not counted), by what saw the push',
      labelNames: ['source'],
      registers: [registry],
    });
    this.notifications = new Counter({
      name: 'capstan_registry_notifications_total',
      help: 'Registry webhook deliveries, by format and result',
      labelNames: ['format', 'result'],
      registers: [registry],
    });
    this.automationRuns = new Counter({
      name: 'capstan_image_automation_runs_total',
      help: 'ImageUpdateAutomation runs, by result (committed, unchanged, failed)',
      labelNames: ['result'],
      registers: [registry],
    });
  }
}
