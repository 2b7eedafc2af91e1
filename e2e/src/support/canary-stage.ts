import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startAudit } from '@capstan/audit';
import { startCanaryAnalyzer, startLoadTester, type LoadTester } from '@capstan/canary-analyzer';
import {
  createTestDatabase,
  sharedCluster,
  startDataPlane,
  DATA_PLANE_LABEL,
  type DataPlane,
  type TestDatabase,
} from '@capstan/testing';
import type { ObjectApi } from '@capstan/kube';
import { applyYaml, installCrds, installFlaggerCrds, objectApi, readObject } from './kube.js';
import { spawnService, type ServiceProcess } from './processes.js';
import { kubeconfigToken } from './platform.js';
import { waitFor } from './wait.js';

interface Running {
  port: number;
  close(): Promise<void>;
}

export interface CanaryStatusView {
  phase?: string;
  canaryWeight?: number;
  failedChecks?: number;
  iterations?: number;
  lastAppliedSpec?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

export interface DecisionView {
  action: string;
  outcome: string;
  reason: string;
  message: string;
  actor: { name: string; kind: string };
  evidence: Record<string, unknown>;
  time: string;
}

/**
 * Everything a canary test runs against, all real: the shared kube-apiserver, the loopback data
 * plane (pod processes, HAProxy, Prometheus), the machine's NATS and Postgres (private stream
 * prefix and database), the audit service, a Flagger-compatible load tester and the analyzer.
 */
export class CanaryStage {
  analyzer?: Running;
  analyzerProcess?: ServiceProcess;
  private constructor(
    readonly namespace: string,
    readonly kubeconfigPath: string,
    readonly api: ObjectApi,
    readonly plane: DataPlane,
    readonly loadTester: LoadTester,
    readonly db: TestDatabase,
    readonly audit: Running,
    readonly env: Record<string, string>,
    readonly token: string,
    readonly logDir: string,
  ) {}

  static async start(namespace: string): Promise<CanaryStage> {
    const { kubeconfigPath } = await sharedCluster();
    const api = objectApi(kubeconfigPath);
    await installCrds(api);
    await installFlaggerCrds(api);
    await applyYaml(api, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}}\n`);
    const plane = await startDataPlane(kubeconfigPath, [namespace]);
    const loadTester = await startLoadTester({
      port: 0,
      host: '127.0.0.1',
      rewrite: (cmd) => plane.proxy.resolve(cmd),
    });
    plane.proxy.alias(namespace, 'flagger-loadtester', `http://127.0.0.1:${loadTester.port}`);
    const db = await createTestDatabase();
    const env: Record<string, string> = {
      KUBECONFIG: kubeconfigPath,
      NATS_URL: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
      EVENT_PREFIX: `e${randomBytes(4).toString('hex')}`,
      DATABASE_URL: db.url,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      CLUSTER_NAME: 'e2e',
      AUDIT_AUTH: 'kubernetes',
      METRICS_SERVER: plane.prometheus.url,
      WATCH_NAMESPACES: namespace,
      LEASE_SECONDS: '6',
    };
    const audit = await startAudit(env);
    const logDir = await mkdtemp(join(tmpdir(), 'capstan-canary-'));
    return new CanaryStage(
      namespace,
      kubeconfigPath,
      api,
      plane,
      loadTester,
      db,
      audit,
      env,
      kubeconfigToken(kubeconfigPath),
      logDir,
    );
  }

  get auditUrl(): string {
    return `http://127.0.0.1:${this.audit.port}`;
  }

  /** The analyzer in this process (webhooks resolve Service names through the data plane). */
  async startAnalyzer(extra: Record<string, string> = {}): Promise<void> {
    this.analyzer = await startCanaryAnalyzer(
      { ...this.env, REPLICA_ID: 'analyzer-in-process', ...extra },
      { http: this.plane.proxy.fetch },
    );
  }

  async stopAnalyzer(): Promise<void> {
    await this.analyzer?.close();
    this.analyzer = undefined;
  }

  /** The analyzer as its own process (`node services/canary-analyzer/dist/main.js`), for kill -9. */
  async spawnAnalyzer(port: number, extra: Record<string, string> = {}): Promise<ServiceProcess> {
    this.analyzerProcess = await spawnService(
      'canary-analyzer',
      port,
      { ...this.env, ...extra },
      this.logDir,
    );
    return this.analyzerProcess;
  }

  /**
   * An analyzer process that kills itself with SIGKILL right after it records a step containing
   * `killAfter` (a rollout event type): before the cluster follows and before anyone is told.
   * Resolves once it is dead. All of them share one replica id, so each takes over the lease.
   */
  async analyzerKilledAfter(
    canary: string,
    killAfter: string,
    timeoutMs = 60_000,
    apiVersion = 'flagger.app/v1beta1',
  ): Promise<void> {
    const p = await spawnService(
      'canary-analyzer',
      0,
      { ...this.env, REPLICA_ID: 'crash-tested', MIN_INTERVAL: '1s', CANARY_FAULT_KILL_AFTER: killAfter },
      this.logDir,
      'canary-analyzer',
      false,
    );
    try {
      await waitFor(
        `the analyzer killed after recording ${killAfter}`,
        () => {
          if (p.child.signalCode === 'SIGKILL') return true;
          if (p.child.exitCode !== null) throw new Error(`the analyzer exited with ${p.child.exitCode}`);
          return undefined;
        },
        timeoutMs,
      ).catch(async (e: unknown) => {
        const s = await this.canary(canary, apiVersion);
        const deployments = await Promise.all(
          [canary, `${canary}-primary`].map(async (n) => {
            const d = await readObject<{ spec: unknown; status: unknown; metadata: { generation: number } }>(
              this.api,
              'apps/v1',
              'Deployment',
              this.namespace,
              n,
            );
            return `${n}: generation ${d?.metadata.generation} replicas ${JSON.stringify((d?.spec as { replicas?: number } | undefined)?.replicas)} status ${JSON.stringify(d?.status)}`;
          }),
        );
        const decided = (await this.decisions(canary).catch(() => []))
          .slice(-6)
          .map((d) => `${d.time} ${d.action}:${d.reason}`);
        throw new Error(
          `${(e as Error).message}; Canary ${canary} is ${s.phase ?? '?'}: ${JSON.stringify(s.conditions)}; ${deployments.join('; ')}; last decisions ${decided.join(', ')}`,
        );
      });
    } finally {
      await p.stop();
    }
  }

  /** A Deployment whose pods the data plane runs as podinfo processes (version = image tag). */
  async deployPodinfo(name: string, version: string, env: Record<string, string> = {}): Promise<void> {
    await applyYaml(this.api, podinfoDeployment(name, this.namespace, version, env), 'kubectl');
  }

  async canary(name: string, apiVersion = 'flagger.app/v1beta1'): Promise<CanaryStatusView> {
    const c = await readObject<{ status?: CanaryStatusView }>(
      this.api,
      apiVersion,
      'Canary',
      this.namespace,
      name,
    );
    return c?.status ?? {};
  }

  async waitPhase(
    name: string,
    phases: string[],
    timeoutMs: number,
    apiVersion = 'flagger.app/v1beta1',
  ): Promise<CanaryStatusView> {
    return waitFor(
      `Canary ${this.namespace}/${name} in ${phases.join('|')}`,
      async () => {
        const s = await this.canary(name, apiVersion);
        return s.phase && phases.includes(s.phase) ? s : undefined;
      },
      timeoutMs,
    );
  }

  /**
   * Waits until Prometheus has no data for `query`: a canary's series must leave the metric
   * window before the next revision is judged, or the old pods' numbers judge the new ones.
   */
  async waitNoData(query: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `no data for ${query}`,
      async () => {
        const url = `${this.plane.prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`;
        const body = (await (await fetch(url)).json()) as { data: { result: unknown[] } };
        return body.data.result.length === 0 ? true : undefined;
      },
      timeoutMs,
    );
  }

  async decisions(name: string): Promise<DecisionView[]> {
    const res = await fetch(`${this.auditUrl}/api/v1/decisions?canary=${this.namespace}/${name}&limit=500`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!res.ok) throw new Error(`audit ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { items: (DecisionView & { seq: number })[] };
    return [...body.items].sort((a, b) => a.seq - b.seq);
  }

  async stop(): Promise<void> {
    // Each part gets a deadline: a stuck teardown names itself instead of hanging the file.
    // The data plane escalates to SIGKILL itself (Prometheus gets 15 s to close its TSDB), so
    // its deadline covers that escalation.
    const step = async (what: string, fn: () => Promise<unknown>, seconds = 20) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        fn(),
        new Promise(
          (_, reject) =>
            (timer = setTimeout(
              () => reject(new Error(`teardown: ${what} did not stop in ${seconds}s`)),
              seconds * 1000,
            )),
        ),
      ]).finally(() => clearTimeout(timer));
    };
    await step('analyzer', () => this.stopAnalyzer());
    await step('analyzer process', async () => this.analyzerProcess?.stop());
    await step('load tester', () => this.loadTester.close());
    await step('data plane', () => this.plane.stop(), 60);
    await step('audit', () => this.audit.close());
    await step('namespace', () =>
      this.api
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace } })
        .catch(() => undefined),
    );
    await step('database', () => this.db.drop());
  }
}

export interface TestCanaryOptions {
  name: string;
  namespace: string;
  apiVersion?: string;
  provider?: string;
  interval?: string;
  stepWeight?: number;
  maxWeight?: number;
  iterations?: number;
  threshold?: number;
  /** Extra YAML lines under `analysis:` (already indented by 4). */
  analysisExtra?: string;
  metrics?: string;
  webhooks?: string;
  target?: string;
}

/**
 * A Canary for operational tests. The interval is 2s, not the workshop's 10s: these tests are
 * about what the analyzer does (commands, crashes, bad input), not about timing, and five-fold
 * shorter steps keep the suite inside its time budget (the workshop spec keeps 10s unchanged).
 */
export function testCanary(o: TestCanaryOptions): string {
  const progression =
    o.iterations !== undefined
      ? `    iterations: ${o.iterations}\n`
      : `    stepWeight: ${o.stepWeight ?? 20}\n    maxWeight: ${o.maxWeight ?? 60}\n`;
  return `apiVersion: ${o.apiVersion ?? 'flagger.app/v1beta1'}
kind: Canary
metadata: {name: ${o.name}, namespace: ${o.namespace}}
spec:
${o.provider ? `  provider: ${o.provider}\n` : ''}  targetRef: {apiVersion: apps/v1, kind: Deployment, name: ${o.target ?? o.name}}
  service: {port: 9898}
  analysis:
    interval: ${o.interval ?? '2s'}
    threshold: ${o.threshold ?? 3}
${progression}${o.analysisExtra ?? ''}    metrics:
${
  o.metrics ??
  `      - name: request-success-rate
        thresholdRange: {min: 99}
        interval: 30s
`
}${o.webhooks ? `    webhooks:\n${o.webhooks}` : ''}`;
}

/** Traffic to a Service through the data plane until stopped (the tests' own load, no webhook). */
export function generateLoad(
  stage: CanaryStage,
  service: string,
  headers: Record<string, string> = {},
): () => Promise<void> {
  const state = { running: true };
  const loop = (async () => {
    while (state.running) {
      await stage.plane.proxy
        .fetch(`http://${service}.${stage.namespace}:9898/`, { headers })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return async () => {
    state.running = false;
    await loop;
  };
}

/** A loopback port nobody listens on right now (for a service process that needs a known one). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A podinfo Deployment the data plane runs as real processes (version = the image tag; env such
 * as PODINFO_ERROR_RATE and PODINFO_LATENCY_MS shape its answers). No replicas: the analyzer
 * owns the target's scale (as with Flagger, Git must not set it).
 */
export function podinfoDeployment(
  name: string,
  namespace: string,
  version: string,
  env: Record<string, string> = {},
): string {
  const envYaml = Object.entries(env)
    .map(([k, v]) => `            - {name: ${k}, value: "${v}"}`)
    .join('\n');
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}, ${DATA_PLANE_LABEL}: podinfo}
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:${version}
          ports: [{name: http, containerPort: 9898}]
${envYaml ? `          env:\n${envYaml}\n` : ''}`;
}
