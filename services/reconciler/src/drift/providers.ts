import type { Provider } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { DriftMonitor } from './drift-monitor.js';
import { DriftCluster, KubeDriftCluster } from './kube-drift-cluster.js';

/** The drift monitor and its API server adapter. */
export function driftProviders(kc: KubeConfig): Provider[] {
  return [{ provide: DriftCluster, useValue: new KubeDriftCluster(kc) }, DriftMonitor];
}
