import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ObjectApi } from '@capstan/kube';
import { createTestDatabase, freePorts, sharedCluster, type TestDatabase } from '@capstan/testing';
import { deleteLeftoverSources, installCrds, objectApi } from './kube.js';
import { lockCluster } from './platform-lock.js';
import { kubeconfigToken } from './platform.js';
import { spawnService, type ServiceProcess } from './processes.js';

export type ServiceName = 'git-watcher' | 'reconciler' | 'audit';

/**
 * The platform with each service as its own process, as its container runs it (Platform runs
 * them inside the test): for tests that read the services' logs, or kill one with SIGKILL and
 * start it again on the same state (its Git cache, its instance name).
 */
export class ProcessPlatform {
  private readonly running = new Map<ServiceName, ServiceProcess>();
  /** Settings of one service only (a kubeconfig through a proxy for the reconciler...). */
  readonly serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {};

  private constructor(
    readonly env: Record<string, string>,
    readonly api: ObjectApi,
    readonly db: TestDatabase,
    readonly kubeconfigPath: string,
    readonly auditToken: string,
    /** Where each service's log goes (`<name>.log`), and its caches. */
    readonly scratch: string,
    private readonly unlock: () => Promise<void>,
  ) {}

  static async start(
    extraEnv: Record<string, string> = {},
    services: readonly ServiceName[] = ['git-watcher', 'reconciler', 'audit'],
    serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
  ): Promise<ProcessPlatform> {
    const { kubeconfigPath } = await sharedCluster();
    const unlock = await lockCluster(kubeconfigPath);
    try {
      const api = objectApi(kubeconfigPath);
      await installCrds(api);
      const db = await createTestDatabase();
      const scratch = await mkdtemp(join(tmpdir(), 'capstan-e2e-proc-'));
      const env = {
        KUBECONFIG: kubeconfigPath,
        NATS_URL: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
        EVENT_PREFIX: `e${randomBytes(4).toString('hex')}`,
        DATABASE_URL: db.url,
        LOG_LEVEL: 'log',
        CLUSTER_NAME: 'e2e',
        RETRY_BASE_MS: '200',
        AUDIT_AUTH: 'kubernetes',
        // Test repositories are local (file://), which the chart leaves off.
        SOURCE_SCHEMES: 'https,http,ssh,git,file',
        ...extraEnv,
      };
      const platform = new ProcessPlatform(
        env,
        api,
        db,
        kubeconfigPath,
        kubeconfigToken(kubeconfigPath),
        scratch,
        unlock,
      );
      Object.assign(platform.serviceEnv, serviceEnv);
      // Side by side: each waits for its own /readyz, and none needs another to get there.
      await Promise.all(services.map((name) => platform.startService(name)));
      return platform;
    } catch (e) {
      await unlock();
      throw e;
    }
  }

  /** Starts (or starts again) a service; the same name keeps the same caches and instance name. */
  async startService(name: ServiceName): Promise<ServiceProcess> {
    const [port] = await freePorts(1);
    const service = await spawnService(
      name,
      port ?? 0,
      {
        ...this.env,
        GIT_CACHE_DIR: join(this.scratch, name),
        INSTANCE_NAME: `${name}-0`,
        ...this.serviceEnv[name],
      },
      this.scratch,
    );
    this.running.set(name, service);
    return service;
  }

  service(name: ServiceName): ServiceProcess {
    const s = this.running.get(name);
    if (!s) throw new Error(`${name} is not running`);
    return s;
  }

  /** `kill -9`: no shutdown hook runs, whatever the service was doing stays half done. */
  async kill(name: ServiceName): Promise<void> {
    const s = this.service(name);
    const exited = new Promise((resolve) => s.child.once('exit', resolve));
    s.child.kill('SIGKILL');
    await exited;
    this.running.delete(name);
  }

  get auditUrl(): string {
    return this.service('audit').url;
  }

  async auditGet<T>(path: string): Promise<T> {
    const res = await fetch(new URL(path, this.auditUrl), {
      headers: { authorization: `Bearer ${this.auditToken}` },
    });
    if (!res.ok) throw new Error(`${res.status} ${path}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Every service's log so far, one text per file. */
  async logs(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const f of await readdir(this.scratch))
      if (f.endsWith('.log')) out[f] = await readFile(join(this.scratch, f), 'utf8');
    return out;
  }

  async stop(): Promise<void> {
    try {
      for (const s of [...this.running.values()].reverse()) await s.stop();
      this.running.clear();
      await this.db.drop();
      await deleteLeftoverSources(this.api);
      await rm(this.scratch, { recursive: true, force: true });
    } finally {
      await this.unlock();
    }
  }
}
