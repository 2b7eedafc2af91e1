import type { Provider } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { DriftMonitor } from './drift-monitor.js';
import { DriftCluster, KubeDriftCluster } from './kube-drift-cluster.js';
import { LiveObjectFeed } from '../cluster/live-feed.js';
import { TenantClients } from '../cluster/tenant-clients.js';

/** The drift monitor, its API server adapter, and the feed of its watch events. */
export function driftProviders(kc: KubeConfig): Provider[] {
  return [
    {
      provide: DriftCluster,
      inject: [TenantClients],
      useFactory: (tenants: TenantClients) => new KubeDriftCluster(kc, tenants),
    },
    LiveObjectFeed,
    DriftMonitor,
  ];
}
