import { randomBytes } from 'node:crypto';
import type { Provider, Type } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { AUDIT_KUBE_CONFIG } from '../kube/audit-kube.providers.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { ClusterObjects } from './cluster-objects.js';
import { CONSOLE_OPTIONS, type ConsoleConfig, type ConsoleOptions } from './console.config.js';
import { ConsoleController } from './console.controller.js';
import { CLUSTER_OBJECTS, OverviewController } from './overview.controller.js';
import { SessionCodec } from './session-codec.js';
import { SessionController } from './session.controller.js';
import { SessionMiddleware } from './session.middleware.js';

export function consoleOptions(c: ConsoleConfig): ConsoleOptions {
  return {
    // Without a configured key, sessions last as long as this process.
    sessionSecret: c.CONSOLE_SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    sessionTtlMs: c.CONSOLE_SESSION_TTL_MS,
  };
}

export const DEFAULT_CONSOLE_OPTIONS = (): ConsoleOptions => ({
  sessionSecret: randomBytes(32).toString('base64url'),
  sessionTtlMs: 8 * 3600_000,
});

export function consoleProviders(options: ConsoleOptions): Provider[] {
  return [
    { provide: CONSOLE_OPTIONS, useValue: options },
    { provide: SessionCodec, useValue: new SessionCodec(options.sessionSecret) },
    {
      provide: CLUSTER_OBJECTS,
      inject: [AUDIT_KUBE_CONFIG],
      useFactory: (kc: KubeConfig) => new ClusterObjects(kc),
    },
    SessionMiddleware,
    ClusterMetrics,
  ];
}

/** Session routes before the page's catch-all route. */
export const consoleControllers: Type[] = [SessionController, OverviewController, ConsoleController];
