import 'reflect-metadata';
import { Registry } from 'prom-client';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { Readiness, startService, systemClock, type Clock } from '@capstan/platform';
import { createKubeConfig, startApiConnectionGuard } from '@capstan/kube';
import { parseDuration } from '@capstan/gitops-core';
import { loadCanaryAnalyzerConfig } from './config.js';
import { CanaryAnalyzerModule } from './app.module.js';
import { Cluster } from './kube/cluster.js';
import { Workload } from './kube/workload.js';
import { Sampler } from './metrics/sampler.js';
import { RolloutMetrics } from './metrics/rollout-metrics.js';
import { RolloutStore } from './rollout/rollout-store.js';
import { CanaryPublisher } from './rollout/publisher.js';
import { CanaryLeases } from './rollout/canary-lease.js';
import { CanaryDriver } from './rollout/canary-driver.js';
import { CanaryScheduler } from './rollout/canary-scheduler.js';
import { AnnouncedSteps } from './rollout/announced-steps.js';
import { RolloutAnnouncer } from './rollout/rollout-announcer.js';
import { Alerter } from './alerts/alerter.js';
import { serveCanaryCommands } from './commands/canary-commands.js';

export interface AnalyzerAdapters {
  clock?: Clock;
  /** HTTP for webhooks and alerts; tests resolve Service names through their data plane. */
  http?: typeof fetch;
}

export async function startCanaryAnalyzer(env?: NodeJS.ProcessEnv, adapters: AnalyzerAdapters = {}) {
  const clock = adapters.clock ?? systemClock;
  const http = adapters.http ?? fetch;
  const config = loadCanaryAnalyzerConfig(env);
  const bus = await connectBus({
    url: config.NATS_URL,
    topology: topology(config.EVENT_PREFIX, { replicas: config.NATS_STREAM_REPLICAS }),
    name: 'canary-analyzer',
  });
  const service = await startService(CanaryAnalyzerModule.create(bus), config);
  const kc = createKubeConfig(config.KUBECONFIG);
  const cluster = new Cluster(kc, config.FIELD_MANAGER);
  const warn = (m: string) => console.warn(`[canary-analyzer] ${m}`);
  await cluster.watchDeployments(config.WATCH_NAMESPACES, warn);
  const leases = new CanaryLeases(kc, config.REPLICA_ID, config.LEASE_SECONDS, () => clock.now());
  leases.start();
  const publisher = new CanaryPublisher(bus);
  const killAfter = config.CANARY_FAULT_KILL_AFTER;
  const driver = new CanaryDriver({
    cluster,
    workload: new Workload(cluster),
    sampler: new Sampler(cluster, config.METRICS_SERVER),
    store: new RolloutStore(bus),
    publisher,
    leases,
    announcer: new RolloutAnnouncer({
      cluster,
      publisher,
      alerter: new Alerter(cluster, http),
      announced: await AnnouncedSteps.open(bus),
      http,
      clusterName: config.CLUSTER_NAME,
      log: { warn },
    }),
    metrics: new RolloutMetrics(service.app.get(Registry)),
    http,
    clock,
    minIntervalMs: parseDuration(config.MIN_INTERVAL),
    meshProvider: config.MESH_PROVIDER,
    log: { warn, error: warn },
    ...(killAfter.length > 0
      ? {
          afterRecord: (events) => {
            if (events.some((e) => killAfter.includes(e.type))) process.kill(process.pid, 'SIGKILL');
          },
        }
      : {}),
  });
  const scheduler = new CanaryScheduler(cluster, driver, { warn }, config.WATCH_NAMESPACES);
  service.app
    .get(Readiness)
    .register('canaries', () =>
      scheduler.synced ? Promise.resolve() : Promise.reject(new Error('Canary watch not synced')),
    );
  // A silent API server connection is replaced, and /readyz says so meanwhile.
  const apiGuard = startApiConnectionGuard(kc, config, service.app.get(Readiness), warn);
  await scheduler.start();
  const commands = serveCanaryCommands(bus.nc, config.EVENT_PREFIX, scheduler, driver);
  return {
    ...service,
    driver,
    close: async () => {
      commands.unsubscribe();
      apiGuard.stop();
      await scheduler.stop();
      await leases.stop();
      await cluster.deployments?.stop();
      await service.close();
      await bus.close();
    },
  };
}
