import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startGitWatcher } from '@capstan/git-watcher';
import { startReconciler } from '@capstan/reconciler';
import { startAudit } from '@capstan/audit';
import { createTestDatabase, sharedCluster, type TestDatabase } from '@capstan/testing';
import { deleteLeftoverSources, installCrds, objectApi } from './kube.js';
import { lockCluster } from './platform-lock.js';
import type { ObjectApi } from '@capstan/kube';
import { KubeConfig } from '@kubernetes/client-node';

interface Running {
  port: number;
  close(): Promise<void>;
}

/**
 * The whole platform in one test process against real components: the shared kube-apiserver,
 * the machine's NATS JetStream (private stream prefix) and Postgres (private database).
 */
export class Platform {
  private audit?: Running;
  private others: Running[] = [];
  gitWatcherUrl = '';
  reconcilerUrl = '';
  /** The services' scratch folder: `<scratch>/<service>` is each one's GIT_CACHE_DIR. */
  scratch = '';

  private constructor(
    readonly env: Record<string, string>,
    readonly api: ObjectApi,
    readonly db: TestDatabase,
    readonly kubeconfigPath: string,
    /** Bearer token for the audit API: the kubeconfig's admin user, authenticated by TokenReview. */
    readonly auditToken: string,
    private readonly unlock: () => Promise<void>,
  ) {}

  /** `extraEnv`: service settings a test needs (URL_REWRITES...), on top of the defaults. */
  static async start(extraEnv: Record<string, string> = {}): Promise<Platform> {
    const { kubeconfigPath } = await sharedCluster();
    const unlock = await lockCluster(kubeconfigPath);
    try {
      return await Platform.startLocked(kubeconfigPath, unlock, extraEnv);
    } catch (e) {
      await unlock();
      throw e;
    }
  }

  private static async startLocked(
    kubeconfigPath: string,
    unlock: () => Promise<void>,
    extraEnv: Record<string, string>,
  ): Promise<Platform> {
    const api = objectApi(kubeconfigPath);
    await installCrds(api);
    const db = await createTestDatabase();
    const scratch = await mkdtemp(join(tmpdir(), 'capstan-e2e-'));
    const env = {
      KUBECONFIG: kubeconfigPath,
      NATS_URL: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
      EVENT_PREFIX: `e${randomBytes(4).toString('hex')}`,
      DATABASE_URL: db.url,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      CLUSTER_NAME: 'e2e',
      RETRY_BASE_MS: '200',
      // Test repositories are local (file://), which the chart leaves off.
      SOURCE_SCHEMES: 'https,http,ssh,git,file',
      // As in production: callers of the audit API need a token the API server accepts.
      AUDIT_AUTH: 'kubernetes',
      ...extraEnv,
    };
    const platform = new Platform(env, api, db, kubeconfigPath, kubeconfigToken(kubeconfigPath), unlock);
    platform.scratch = scratch;
    const gitWatcher = await startGitWatcher({ ...env, GIT_CACHE_DIR: join(scratch, 'git-watcher') });
    platform.gitWatcherUrl = `http://127.0.0.1:${gitWatcher.port}`;
    platform.others.push(gitWatcher);
    const reconciler = await startReconciler({ ...env, GIT_CACHE_DIR: join(scratch, 'reconciler') });
    platform.reconcilerUrl = `http://127.0.0.1:${reconciler.port}`;
    platform.others.push(reconciler);
    await platform.startAudit();
    return platform;
  }

  get auditUrl(): string {
    if (!this.audit) throw new Error('audit is stopped');
    return `http://127.0.0.1:${this.audit.port}`;
  }

  async startAudit(): Promise<void> {
    this.audit = await startAudit(this.env);
  }

  async stopAudit(): Promise<void> {
    await this.audit?.close();
    this.audit = undefined;
  }

  /** Environment for the CLI's `run()`: the audit API's URL and a token for it. */
  get cliEnv(): Record<string, string> {
    return { CAPSTAN_AUDIT_URL: this.auditUrl, CAPSTAN_TOKEN: this.auditToken };
  }

  async auditGet<T>(path: string): Promise<T> {
    const res = await fetch(new URL(path, this.auditUrl), {
      headers: { authorization: `Bearer ${this.auditToken}` },
    });
    if (!res.ok) throw new Error(`${res.status} ${path}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  async stop(): Promise<void> {
    try {
      await this.stopAudit();
      for (const s of this.others.reverse()) await s.close();
      await this.db.drop();
      await deleteLeftoverSources(this.api);
    } finally {
      await this.unlock();
    }
  }
}

/** The bearer token of the kubeconfig's current user (the test cluster's admin). */
export function kubeconfigToken(kubeconfigPath: string): string {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const token = kc.getCurrentUser()?.token;
  if (!token) throw new Error(`${kubeconfigPath}: the current user has no token to call the audit API with`);
  return token;
}
