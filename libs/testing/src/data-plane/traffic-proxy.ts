// A real HAProxy (Debian's) in front of the data plane's pods, driven by the cluster's
// TrafficSplit (split.smi-spec.io) and HTTPRoute (gateway.networking.k8s.io) weights through
// this small adapter, which polls them and reloads HAProxy (master-worker, SIGUSR2) on change.
// Service names resolve to the proxy's loopback frontends (`resolve`), never to ClusterIPs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { freePorts } from '../cluster/ports.js';
import { haproxyConfig, type ServiceView, type SplitView } from './haproxy-config.js';
import type { PodRunner } from './pod-runner.js';
import { hasExited, stopChild } from './stop-child.js';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

interface TrafficSplitObj {
  metadata: { namespace: string; name: string };
  spec?: { service?: string; backends?: { service: string; weight: number | string }[] };
}
interface HttpRouteObj {
  metadata: { namespace: string; name: string };
  spec?: {
    rules?: {
      matches?: { headers?: { name: string; type?: string; value: string }[] }[];
      backendRefs?: { name: string; weight?: number }[];
    }[];
  };
}

export class TrafficProxy {
  private child?: ChildProcess;
  private lastConfig = '';
  private readonly ports = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private syncing = false;
  private stopped = false;

  private constructor(
    private readonly dir: string,
    private readonly statsPort: number,
    kc: KubeConfig,
    private readonly runner: PodRunner,
    private readonly namespaces: string[],
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  static async start(kubeconfigPath: string, runner: PodRunner, namespaces: string[]): Promise<TrafficProxy> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const dir = await mkdtemp(join(tmpdir(), 'capstan-haproxy-'));
    const [stats] = await freePorts(1);
    const proxy = new TrafficProxy(dir, stats ?? 0, kc, runner, namespaces);
    await proxy.sync();
    runner.onChange(() => void proxy.sync());
    proxy.timer = setInterval(() => void proxy.sync(), 500);
    return proxy;
  }

  private readonly aliases = new Map<string, string>();

  /** Serves `http://<service>.<namespace>` from a local address (a test's load tester, receivers). */
  alias(namespace: string, service: string, baseUrl: string): void {
    this.aliases.set(`${namespace}/${service}`, baseUrl.replace(/\/$/, ''));
  }

  /**
   * `http://podinfo-canary.prod:9898/x` -> the proxy's frontend for that Service (or an alias);
   * anything else unchanged. This is the test data plane's DNS: Service names never resolve to
   * ClusterIPs (10.x), only to loopback addresses.
   */
  resolve(url: string): string {
    return url.replace(
      /\bhttp:\/\/([a-z0-9-]+)\.([a-z0-9-]+)(?:\.svc(?:\.cluster\.local)?)?(?::\d+)?/g,
      (all, svc: string, ns: string) => {
        const alias = this.aliases.get(`${ns}/${svc}`);
        if (alias) return alias;
        const port = this.ports.get(`${ns}/${svc}`);
        return port === undefined ? all : `http://127.0.0.1:${port}`;
      },
    );
  }

  /** fetch through the data plane's names. */
  readonly fetch: typeof fetch = (input, init) =>
    fetch(
      this.resolve(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url),
      init,
    );

  /** The loopback address of a Service's frontend (after the proxy has seen the Service). */
  address(namespace: string, service: string): string {
    const port = this.ports.get(`${namespace}/${service}`);
    if (port === undefined)
      throw new Error(`the proxy has no frontend for Service ${namespace}/${service} (yet)`);
    return `http://127.0.0.1:${port}`;
  }

  async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      const services: ServiceView[] = [];
      const splits: SplitView[] = [];
      for (const ns of this.namespaces) {
        for (const s of (await this.core.listNamespacedService({ namespace: ns })).items)
          services.push({ namespace: ns, name: s.metadata?.name ?? '', selector: s.spec?.selector ?? {} });
        for (const ts of await this.list<TrafficSplitObj>(
          'split.smi-spec.io',
          'v1alpha1',
          'trafficsplits',
          ns,
        ))
          splits.push({
            namespace: ns,
            service: ts.spec?.service ?? ts.metadata.name,
            backends: (ts.spec?.backends ?? []).map((b) => ({
              service: b.service,
              weight: Number(b.weight),
            })),
            matches: [],
          });
        for (const r of await this.list<HttpRouteObj>('gateway.networking.k8s.io', 'v1', 'httproutes', ns)) {
          const rules = r.spec?.rules ?? [];
          const weighted = rules.find((x) => !x.matches?.some((m) => m.headers?.length));
          splits.push({
            namespace: ns,
            service: r.metadata.name,
            backends: (weighted?.backendRefs ?? []).map((b) => ({ service: b.name, weight: b.weight ?? 1 })),
            matches: rules
              .filter((x) => x.matches?.some((m) => m.headers?.length))
              .map((x) => ({
                service: x.backendRefs?.[0]?.name ?? '',
                headers: (x.matches?.[0]?.headers ?? []).map((h) => ({
                  name: h.name,
                  type: h.type === 'RegularExpression' ? ('RegularExpression' as const) : ('Exact' as const),
                  value: h.value,
                })),
              })),
          });
        }
      }
      const missing = services.filter((s) => !this.ports.has(`${s.namespace}/${s.name}`));
      const fresh = await freePorts(missing.length);
      missing.forEach((s, i) => this.ports.set(`${s.namespace}/${s.name}`, fresh[i] ?? 0));
      const config = haproxyConfig({
        services,
        splits,
        pods: this.runner.pods(),
        ports: this.ports,
        statsPort: this.statsPort,
      });
      if (config === this.lastConfig) return;
      await writeFile(join(this.dir, 'haproxy.cfg'), config);
      this.lastConfig = config;
      await this.reload();
    } catch {
      // The API server or a CRD may be missing for a moment; the next poll tries again.
    } finally {
      this.syncing = false;
    }
  }

  private async list<T>(group: string, version: string, plural: string, namespace: string): Promise<T[]> {
    try {
      return (
        (await this.custom.listNamespacedCustomObject({ group, version, plural, namespace })) as {
          items: T[];
        }
      ).items;
    } catch {
      return [];
    }
  }

  private async reload(): Promise<void> {
    // A sync that was under way when stop() began must not start a proxy nobody will stop.
    if (this.stopped) return;
    if (this.child && !hasExited(this.child)) {
      this.child.kill('SIGUSR2');
      return;
    }
    this.child = spawn(HAPROXY_BIN, ['-W', '-db', '-f', join(this.dir, 'haproxy.cfg')], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.statsPort}/`)).ok) return;
      } catch {
        // starting
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('haproxy did not start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.child) await stopChild(this.child, 'haproxy');
    await rm(this.dir, { recursive: true, force: true });
  }
}
