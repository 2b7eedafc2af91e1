import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import {
  CapstanResources,
  createKubeConfig,
  shardLeaseSelector,
  shardOf,
  shardOfLease,
  type ObjectApi,
  type Sync,
} from '@capstan/kube';
import { sharedCluster, startNatsCluster, testEventPrefix, type NatsCluster } from '@capstan/testing';
import { GitRepo } from './git-repo.js';
import { applyYaml, installCrds, objectApi } from './kube.js';
import { lockCluster } from './platform-lock.js';
import { Replicas } from './replicas.js';
import { readTrace, type TraceEntry } from './step-trace.js';
import { waitFor } from './wait.js';

export interface SyncFleetOptions {
  syncs: number;
  /** A NATS cluster of the fleet's own with streams at 3 replicas; otherwise the machine's NATS. */
  natsCluster?: boolean;
  /** Settings every service process gets (SHARD_LEASE_SECONDS...). */
  env?: Record<string, string>;
  /** A cluster of the test's own (one it may kill parts of); the shared one otherwise. */
  kubeconfigPath?: string;
  /** False to create the Syncs later (createSyncs), once the services are up. */
  createSyncs?: boolean;
}

/**
 * N Syncs, each one ConfigMap from its own folder of one Git repository, in a namespace of
 * their own, and the services that deploy them as processes (Replicas), with every step traced
 * to one file. The replica, chaos and scale-out tests and benchmarks start from it.
 */
export class SyncFleet {
  round = 0;
  revision = '';
  /** Whether each Sync currently has a second object (`<name>-extra`); removing it prunes. */
  extra = false;
  private leaseApi?: CoordinationV1Api;

  private constructor(
    readonly ns: string,
    readonly api: ObjectApi,
    readonly resources: CapstanResources,
    readonly repo: GitRepo,
    readonly replicas: Replicas,
    readonly env: Record<string, string>,
    readonly traceFile: string,
    readonly count: number,
    private readonly scratch: string,
    private readonly unlock: () => Promise<void>,
    readonly nats?: NatsCluster,
  ) {}

  static async start(options: SyncFleetOptions): Promise<SyncFleet> {
    const kubeconfigPath = options.kubeconfigPath ?? (await sharedCluster()).kubeconfigPath;
    // On the run's shared cluster the fleet's reconcilers would reconcile every other spec's
    // Syncs (and theirs the fleet's): one Capstan per cluster at a time, as Platform does.
    const unlock = options.kubeconfigPath ? async () => undefined : await lockCluster(kubeconfigPath);
    try {
      return await SyncFleet.startWith(options, kubeconfigPath, unlock);
    } catch (e) {
      await unlock();
      throw e;
    }
  }

  private static async startWith(
    options: SyncFleetOptions,
    kubeconfigPath: string,
    unlock: () => Promise<void>,
  ): Promise<SyncFleet> {
    const id = randomBytes(3).toString('hex');
    const api = objectApi(kubeconfigPath);
    await installCrds(api);
    const scratch = await mkdtemp(join(tmpdir(), `capstan-fleet-${id}-`));
    const nats = options.natsCluster ? await startNatsCluster({ nodes: 3 }) : undefined;
    const traceFile = join(scratch, 'trace.jsonl');
    const env = {
      KUBECONFIG: kubeconfigPath,
      NATS_URL: nats ? nats.servers.join(',') : (process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222'),
      NATS_STREAM_REPLICAS: nats ? '3' : '1',
      EVENT_PREFIX: testEventPrefix(),
      LOG_LEVEL: 'log',
      CLUSTER_NAME: 'fleet',
      RETRY_BASE_MS: '200',
      TEST_TRACE_FILE: traceFile,
      // The fleet's repository is a local one (file://), which production refuses by default.
      SOURCE_SCHEMES: 'https,http,ssh,git,file',
      ...options.env,
    };
    const ns = `fleet-${id}`;
    const repo = await GitRepo.create(join(scratch, 'repo'));
    const fleet = new SyncFleet(
      ns,
      api,
      new CapstanResources(createKubeConfig(kubeconfigPath)),
      repo,
      new Replicas(env, scratch),
      env,
      traceFile,
      options.syncs,
      scratch,
      unlock,
      nats,
    );
    await fleet.commit();
    await applyYaml(api, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    await applyYaml(
      api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: apps, namespace: ${ns}}
spec: {url: "${repo.url}", ref: {branch: main}, interval: 1s}
`,
    );
    if (options.createSyncs !== false) await fleet.createSyncs();
    return fleet;
  }

  /** Creates the Syncs, fifty at a time. */
  async createSyncs(): Promise<void> {
    const { api, ns } = this;
    for (let i = 0; i < this.count; i += 50)
      await Promise.all(
        this.names.slice(i, i + 50).map((name) =>
          api.applyRaw(
            {
              apiVersion: 'capstan.dev/v1alpha1',
              kind: 'Sync',
              metadata: { name, namespace: ns },
              spec: {
                sourceRef: { kind: 'GitRepository', name: 'apps' },
                path: `./apps/${name}`,
                interval: '1h',
              },
            },
            { fieldManager: 'fleet' },
          ),
        ),
      );
  }

  get names(): string[] {
    return Array.from({ length: this.count }, (_, i) => `app-${String(i).padStart(4, '0')}`);
  }

  /**
   * A commit changing every Sync's ConfigMap (its `round`); with `extra` each Sync also gets a
   * second ConfigMap, and a commit without it after one with it prunes them. Returns the revision.
   */
  async commit(extra = this.extra): Promise<string> {
    this.round++;
    this.extra = extra;
    const files: Record<string, string | null> = {};
    for (const name of this.names) {
      files[`apps/${name}/configmap.yaml`] =
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${this.ns}}\ndata: {round: "${this.round}"}\n`;
      files[`apps/${name}/extra.yaml`] = extra
        ? `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}-extra, namespace: ${this.ns}}\ndata: {round: "${this.round}"}\n`
        : null;
    }
    await this.repo.write(files);
    const sha = this.repo.commit(`round ${this.round}`, { name: 'Fleet', email: 'fleet@example.com' });
    this.revision = `main@sha1:${sha}`;
    return this.revision;
  }

  /** Names of the Syncs not yet Ready at `revision`. */
  async notReady(revision = this.revision): Promise<string[]> {
    const syncs = (await this.resources.list('Sync')).filter((s: Sync) => s.metadata.namespace === this.ns);
    const ready = new Set(
      syncs
        .filter(
          (s) =>
            s.status?.lastAppliedRevision === revision &&
            s.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        )
        .map((s) => s.metadata.name),
    );
    return this.names.filter((n) => !ready.has(n));
  }

  /** Waits until every Sync is Ready at `revision`, listing them every `everyMs`. */
  async allReady(revision = this.revision, timeoutMs = 90_000, everyMs = 100): Promise<void> {
    let left: string[] = [];
    await waitFor(
      `every Sync Ready at ${revision}`,
      async () => {
        left = await this.notReady(revision);
        if (left.length > 0) await new Promise((r) => setTimeout(r, everyMs));
        return left.length === 0 ? true : undefined;
      },
      timeoutMs,
    ).catch((e: unknown) => {
      throw new Error(
        `${e instanceof Error ? e.message : String(e)}; not ready: ${left.slice(0, 10).join(', ')}`,
      );
    });
  }

  trace(): Promise<TraceEntry[]> {
    return readTrace(this.traceFile);
  }

  /** Sync key (`ns/name`) of one of the fleet's Syncs. */
  key(name: string): string {
    return `${this.ns}/${name}`;
  }

  /**
   * Waits until the shards of `service` are held by exactly `replicas`, each holding some, and
   * no holder changed over three looks a lease-renewal apart: a replica that just joined is seen
   * by the others only at their next renewal, and hands over only then, so "started" is not yet
   * "owning its share" (on a loaded machine that takes seconds).
   */
  async shardsSettled(
    service: string,
    replicas: readonly { identity: string }[],
    timeoutMs = 60_000,
  ): Promise<void> {
    const want = [...new Set(replicas.map((r) => r.identity))].sort().join(',');
    const renewMs = (Number(this.env['SHARD_LEASE_SECONDS'] ?? '6') * 1000) / 6;
    let last = '';
    let same = 0;
    let seen = '';
    await waitFor(
      `${service} shards held by ${want}`,
      async () => {
        const items = await this.shardLeases(service);
        const holders = items.map((l) => `${l.metadata?.name}=${l.spec?.holderIdentity ?? ''}`).sort();
        seen = holders.join(' ');
        const held = [...new Set(items.map((l) => l.spec?.holderIdentity ?? ''))].sort().join(',');
        same = held === want && seen === last ? same + 1 : 0;
        last = seen;
        if (same >= 2) return true;
        await new Promise((r) => setTimeout(r, renewMs));
        return undefined;
      },
      timeoutMs,
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; last seen: ${seen}`);
    });
  }

  /** Which replica (identity) holds each shard of `service`, from its shard Leases. */
  async shardHolders(service: string): Promise<Map<number, string>> {
    const holders = new Map<number, string>();
    for (const l of await this.shardLeases(service)) {
      const shard = shardOfLease(l);
      if (shard !== undefined && l.spec?.holderIdentity) holders.set(shard, l.spec.holderIdentity);
    }
    return holders;
  }

  /** The shard a key (`namespace/name`) falls in, as the services compute it. */
  shardOf(key: string): number {
    return shardOf(key, Number(this.env['SHARDS'] ?? '32'));
  }

  private async shardLeases(service: string): Promise<V1Lease[]> {
    // One client for the fleet: waitForShards asks for the Leases every few hundred milliseconds.
    this.leaseApi ??= createKubeConfig(this.env['KUBECONFIG'] ?? '').makeApiClient(CoordinationV1Api);
    return (
      await this.leaseApi.listNamespacedLease({
        namespace: this.env['POD_NAMESPACE'] ?? 'default',
        labelSelector: shardLeaseSelector(`${this.env['EVENT_PREFIX'] ?? ''}-${service}`),
      })
    ).items;
  }

  /** Kill times of the killed replicas, by pid, for step-trace intervals. */
  killedAt(): Map<number, number> {
    return new Map(this.replicas.all.filter((r) => r.killedAt).map((r) => [r.pid, r.killedAt ?? 0]));
  }

  async stop(): Promise<void> {
    await this.replicas.stopAll();
    await this.api
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.ns } })
      .catch(() => undefined);
    await this.nats?.destroy();
    if (!process.env['KEEP_TEST_LOGS']) await rm(this.scratch, { recursive: true, force: true });
    await this.unlock();
  }
}
