import { Inject, Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';
import { capstanGauge } from '@capstan/platform';
import type { ClusterObjects } from './cluster-objects.js';
import { CLUSTER_OBJECTS } from './overview.controller.js';

/**
 * capstan_sync_ready and capstan_resource_ready, read from the API server at each scrape (one
 * list per kind). The audit service reports them because it already reads every Capstan object
 * for the console; the values are the objects' own Ready conditions, whoever wrote them.
 */
@Injectable()
export class ClusterMetrics {
  constructor(@Inject(CLUSTER_OBJECTS) cluster: ClusterObjects, registry: Registry) {
    let rows: Promise<Awaited<ReturnType<ClusterObjects['rows']>>> | null = null;
    // Both gauges are collected in the same scrape: list once for the two.
    const current = () => {
      rows ??= cluster.rows().finally(() => setTimeout(() => (rows = null), 1_000).unref());
      return rows;
    };
    capstanGauge(registry, 'syncReady', async (set) => {
      for (const r of await current().catch(() => []))
        if (r.kind === 'Sync') set({ namespace: r.namespace, name: r.name }, r.ready === 'True' ? 1 : 0);
    });
    capstanGauge(registry, 'resourceReady', async (set) => {
      for (const r of await current().catch(() => []))
        set({ kind: r.kind, namespace: r.namespace, name: r.name }, r.ready === 'True' ? 1 : 0);
    });
  }
}
