import { Logger, type Provider } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiConnectionGuard, createKubeConfig, startApiConnectionGuard } from '@capstan/kube';
import { Readiness } from '@capstan/platform';

/** The audit service's one KubeConfig: reviews, canary authorizations, Subscriptions, the console. */
export const AUDIT_KUBE_CONFIG = Symbol('AuditKubeConfig');

export interface AuditKubeOptions {
  /** Kubeconfig to reach the API server with; unset: in-cluster, then ~/.kube/config. */
  kubeconfigPath?: string | undefined;
  /**
   * Probe the API server connection, replace it when silent and say so in /readyz. Off for tests
   * and setups that never reach Kubernetes (auth disabled, no Subscriptions): a probe of a server
   * that is not there would only turn /readyz red.
   */
  apiProbe?: { API_PROBE_INTERVAL: string; API_PROBE_TIMEOUT: string } | undefined;
}

/**
 * One client configuration, so one connection pool, shared by everything in the service that asks
 * the API server: a hung HTTP/2 session then hangs (and is replaced) in one place, and the guard
 * watching that pool covers every caller. TokenReviews are on the path of every console and API
 * request, so a silent connection there locks every reader out while the process looks healthy.
 */
export function auditKubeProviders(options: AuditKubeOptions): Provider[] {
  const { apiProbe } = options;
  return [
    { provide: AUDIT_KUBE_CONFIG, useFactory: () => createKubeConfig(options.kubeconfigPath) },
    ...(apiProbe
      ? [
          {
            provide: ApiConnectionGuard,
            inject: [Readiness, AUDIT_KUBE_CONFIG],
            useFactory: (readiness: Readiness, kc: KubeConfig) =>
              startApiConnectionGuard(kc, apiProbe, readiness, (m) => new Logger('ApiConnection').warn(m)),
          },
        ]
      : []),
  ];
}
