import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import { CLOCK, ObservabilityModule, Readiness, systemClock, type Clock } from '@capstan/platform';
import { busProviders, type Bus } from '@capstan/messaging';
import { GitMirror, SourcePolicy } from '@capstan/git';
import {
  ApiConnectionGuard,
  startApiConnectionGuard,
  CapstanResources,
  SecretReader,
  HealthChecker,
  ObjectApi,
  createKubeConfig,
} from '@capstan/kube';
import {
  CommitRenderer,
  GuardedUrlValues,
  HttpChartFetcher,
  KubeValuesSource,
  type RenderLimits,
} from '@capstan/render';
import type { KubeConfig } from '@kubernetes/client-node';
import { RECONCILER_CONFIG, type ReconcilerConfig } from './config.js';
import { ID_SOURCE, randomIds } from './ids.js';
// Scheduling: when each Sync reconciles.
import { CommitConsumer } from './scheduling/commit.consumer.js';
import { SyncScheduler } from './scheduling/sync-scheduler.js';
import { SyncOwnership } from './scheduling/sync-ownership.js';
// Sources: where the commit and its settings come from.
import { ArtifactCache } from './sources/artifact-cache.js';
import { RepositoryCache } from './sources/repository-cache.js';
import { SharedTreeMirror } from './sources/shared-tree-mirror.js';
import { SourceSettingsReader } from './sources/source-settings.js';
// Reconcile: the phases of one run, and the Sync's one status writer.
import { ChangeAttribution } from './reconcile/change-attribution.js';
import { DependencyGate } from './reconcile/dependency-gate.js';
import { SyncReconciler } from './reconcile/sync-reconciler.js';
import { AttemptLedger } from './reconcile/attempt-ledger.js';
import { SyncStatusWriter } from './reconcile/sync-status-writer.js';
import { HelmReleaseStatusWriter } from './reconcile/helm-release-status-writer.js';
import { ReleaseRetries } from './reconcile/release-retries.js';
import { ReleaseDeployer } from './reconcile/release-deployer.js';
// Cluster caches: what the reconciler watches.
import { HealthWaiter } from './cluster/health-waiter.js';
import { SyncCache } from './cluster/sync-cache.js';
import { TenantClients } from './cluster/tenant-clients.js';
import { TENANCY_KUBECONFIG, TenancyPolicies } from './cluster/tenancy-policies.js';
import { driftProviders } from './drift/providers.js';

/** The installation's source policy; the reconciler's own caches are never a source. */
function sourcePolicy(config: ReconcilerConfig): SourcePolicy {
  return new SourcePolicy({
    schemes: config.SOURCE_SCHEMES,
    protectedDirs: [config.GIT_CACHE_DIR, ...(config.CHART_CACHE_DIR ? [config.CHART_CACHE_DIR] : [])],
    checkAddresses: true,
  });
}

function renderLimits(config: ReconcilerConfig): RenderLimits {
  return {
    maxFileBytes: config.MAX_FILE_BYTES,
    maxRenderedBytes: config.MAX_RENDERED_BYTES,
    maxDocuments: config.MAX_DOCUMENTS,
    maxYamlExpandedBytes: config.MAX_YAML_EXPANDED_BYTES,
  };
}

/** The API server's host names and addresses: never a values URL, even through an allowed name. */
function apiServerHosts(kc: KubeConfig, config: ReconcilerConfig): string[] {
  const hosts: string[] = [];
  const server = kc.getCurrentCluster()?.server;
  if (server) hosts.push(new URL(server).hostname.replace(/^\[(.*)\]$/, '$1'));
  if (config.KUBERNETES_SERVICE_HOST) hosts.push(config.KUBERNETES_SERVICE_HOST);
  return hosts;
}

@Module({})
export class ReconcilerModule {
  static create(config: ReconcilerConfig, bus: Bus, attempts: AttemptLedger): DynamicModule {
    const kc = createKubeConfig(config.KUBECONFIG);
    return {
      module: ReconcilerModule,
      imports: [ObservabilityModule.forService('reconciler')],
      controllers: [CommitConsumer],
      providers: [
        { provide: RECONCILER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        { provide: ID_SOURCE, useValue: randomIds },
        ...busProviders(bus),
        SyncScheduler,
        { provide: SyncOwnership, useValue: new SyncOwnership(kc, config) },
        {
          provide: GitMirror,
          useValue: new SharedTreeMirror(config.GIT_CACHE_DIR, undefined, config.URL_REWRITES, {
            policy: sourcePolicy(config),
            maxFileBytes: config.MAX_FILE_BYTES,
            maxTreeBytes: config.MAX_REPOSITORY_BYTES,
          }),
        },
        { provide: ArtifactCache, inject: [GitMirror], useFactory: (m: GitMirror) => new ArtifactCache(m) },
        RepositoryCache,
        SourceSettingsReader,
        { provide: SecretReader, useValue: new SecretReader(kc) },
        {
          provide: CommitRenderer,
          inject: [GitMirror],
          useFactory: (mirror: GitMirror) => {
            const api = ObjectApi.fromKubeConfig(kc);
            return new CommitRenderer(
              mirror,
              new KubeValuesSource(kc),
              new HttpChartFetcher(
                config.CHART_CACHE_DIR ?? join(config.GIT_CACHE_DIR, 'charts'),
                undefined,
                config.URL_REWRITES,
                { checkAddresses: true, maxBytes: config.MAX_CHART_BYTES },
              ),
              {
                helm: config.HELM_BIN,
                kustomize: config.KUSTOMIZE_BIN,
                isNamespaced: (apiVersion, kind) => api.isNamespaced(apiVersion, kind),
                limits: renderLimits(config),
                kustomizeRemoteBases: config.KUSTOMIZE_REMOTE_BASES,
                remoteFetch: { maxBytes: config.MAX_REPOSITORY_BYTES },
                sourceSchemes: config.SOURCE_SCHEMES,
                urlValues: new GuardedUrlValues({
                  policy: {
                    allowedHosts: config.VALUES_ALLOWED_HOSTS,
                    deniedHosts: apiServerHosts(kc, config),
                  },
                  maxBytes: config.MAX_FILE_BYTES,
                }),
              },
            );
          },
        },
        { provide: CapstanResources, useValue: new CapstanResources(kc) },
        {
          // A silent API server connection is replaced, and /readyz says so meanwhile.
          provide: ApiConnectionGuard,
          inject: [Readiness],
          useFactory: (readiness: Readiness) =>
            startApiConnectionGuard(kc, config, readiness, (m) => new Logger('ApiConnection').warn(m)),
        },
        { provide: HealthChecker, useValue: new HealthChecker(ObjectApi.fromKubeConfig(kc)) },
        // Every write, dry-run, prune, health read, hook and drift correction of a Sync goes
        // through the client set of the ServiceAccount it impersonates.
        {
          provide: TenantClients,
          inject: [CLOCK],
          useFactory: (clock: Clock) =>
            new TenantClients(kc, ObjectApi.fromKubeConfig(kc), clock, config.IMPERSONATION_CACHE_SIZE),
        },
        { provide: TENANCY_KUBECONFIG, useValue: kc },
        TenancyPolicies,
        DependencyGate,
        ChangeAttribution,
        { provide: AttemptLedger, useValue: attempts },
        SyncStatusWriter,
        HelmReleaseStatusWriter,
        ReleaseRetries,
        ReleaseDeployer,
        { provide: ObjectApi, useValue: ObjectApi.fromKubeConfig(kc) },
        SyncReconciler,
        SyncCache,
        HealthWaiter,
        ...driftProviders(kc),
      ],
    };
  }
}
