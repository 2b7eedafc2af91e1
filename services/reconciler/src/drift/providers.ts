import type { Provider } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { DriftMonitor } from './drift-monitor.js';
import { DriftCluster, KubeDriftCluster } from './kube-drift-cluster.js';
import { LiveObjectFeed } from '../health/live-feed.js';

/** The drift monitor, its API server adapter, and the feed of its watch events. */
export function driftProviders(kc: KubeConfig): Provider[] {
  return [{ provide: DriftCluster, useValue: new KubeDriftCluster(kc) }, LiveObjectFeed, DriftMonitor];
}
