import type { Provider } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { APP_FILTER } from '@nestjs/core';
import { CLOCK, type Clock } from '@capstan/platform';
import { ACCESS_REVIEWER, type AccessReviewer } from './access.js';
import { AUTH_MODE, AuditAuth, type AuthMode } from './audit-auth.service.js';
import { AuthErrorsFilter } from './auth-errors.filter.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { CachingReviewer } from './caching-reviewer.js';
import { KubernetesReviewer } from './kubernetes-reviewer.js';
import { AUDIT_KUBE_CONFIG } from '../kube/audit-kube.providers.js';

export type AuditAuthOptions =
  | { mode: 'disabled' }
  | {
      mode: 'kubernetes';
      /** Reuse of review answers; default 10 s. */
      cacheTtlMs?: number;
    };

const refuseAll: AccessReviewer = {
  authenticate: () => Promise.resolve(null),
  allowed: () => Promise.resolve(false),
};

export function authProviders(options: AuditAuthOptions): Provider[] {
  const mode: AuthMode = { mode: options.mode };
  return [
    { provide: AUTH_MODE, useValue: mode },
    {
      provide: ACCESS_REVIEWER,
      inject: [CLOCK, AUDIT_KUBE_CONFIG],
      useFactory: (clock: Clock, kc: KubeConfig): AccessReviewer =>
        options.mode === 'kubernetes'
          ? new CachingReviewer(new KubernetesReviewer(kc), clock, options.cacheTtlMs ?? 10_000)
          : refuseAll,
    },
    AuditAuth,
    BearerAuthGuard,
    { provide: APP_FILTER, useClass: AuthErrorsFilter },
  ];
}
