import type { Provider, Type } from '@nestjs/common';
import { CLOCK, type Clock } from '@capstan/platform';
import { DeliveryWorker } from './delivery-worker.service.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { AUDIT_KUBE_CONFIG } from '../kube/audit-kube.providers.js';
import { KubeSubscriptions } from './kube-subscriptions.js';
import { SecretCache } from './secret-cache.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { KUBE_SUBSCRIPTIONS, SECRET_CACHE, SubscriptionWatcher } from './subscription-watcher.service.js';
import { SubscriptionsController } from './subscriptions.controller.js';
import { WEBHOOK_OPTIONS, type WebhookOptions } from './subscriptions.config.js';
import { WEBHOOK_SENDER, httpWebhookSender, type WebhookSender } from './webhook-sender.js';
import { WebhookFanout } from './webhook-fanout.service.js';

/** Everything webhooks need, for AuditModule.forRoot when subscriptions are enabled. */
export function webhookProviders(options: WebhookOptions, sender?: WebhookSender): Provider[] {
  return [
    { provide: WEBHOOK_OPTIONS, useValue: options },
    {
      provide: KUBE_SUBSCRIPTIONS,
      inject: [AUDIT_KUBE_CONFIG],
      useFactory: (kc: KubeConfig) => new KubeSubscriptions(kc),
    },
    {
      provide: SECRET_CACHE,
      inject: [KUBE_SUBSCRIPTIONS, CLOCK],
      useFactory: (kube: KubeSubscriptions, clock: Clock) =>
        new SecretCache((ns, n) => kube.readToken(ns, n), clock),
    },
    { provide: WEBHOOK_SENDER, useValue: sender ?? httpWebhookSender(options.timeoutMs) },
    SubscriptionRegistry,
    SubscriptionWatcher,
    WebhookFanout,
    DeliveryWorker,
  ];
}

export const webhookControllers: Type[] = [SubscriptionsController];
