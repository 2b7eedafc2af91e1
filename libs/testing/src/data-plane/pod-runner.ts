// Runs a real podinfo-like process for every pod of a marked workload, on the pod's own
// loopback IP (kwok hands those out, see cluster/components.ts) and container port. The test
// marks a pod template with DATA_PLANE_LABEL; the version is the image tag, and the pod's env
// (PODINFO_ERROR_RATE, PODINFO_LATENCY_MS) sets its faults, so a "bad version" is a revision.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { stopChild } from './stop-child.js';

export const DATA_PLANE_LABEL = 'capstan.dev/data-plane';

export interface RunningPod {
  namespace: string;
  name: string;
  deployment: string;
  ip: string;
  port: number;
  version: string;
  labels: Record<string, string>;
}

const APP = fileURLToPath(new URL('./podinfo-app.js', import.meta.url));

export class LoopbackAddressError extends Error {}

export class PodRunner {
  private readonly running = new Map<string, { pod: RunningPod; child: ChildProcess }>();
  private readonly listeners: (() => void)[] = [];
  private stopInformer: () => Promise<void> = () => Promise.resolve();
  private stopped = false;

  private constructor(
    private readonly kc: KubeConfig,
    private readonly namespaces: readonly string[],
  ) {}

  /** Runs the marked pods of `namespaces` only: two test files' data planes never share a pod. */
  static async start(kubeconfigPath: string, namespaces: readonly string[]): Promise<PodRunner> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const runner = new PodRunner(kc, namespaces);
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(
      kc,
      '/api/v1/pods',
      () => core.listPodForAllNamespaces({ labelSelector: DATA_PLANE_LABEL }),
      DATA_PLANE_LABEL,
    );
    informer.on('add', (p) => runner.sync(p));
    informer.on('update', (p) => runner.sync(p));
    informer.on('delete', (p) => runner.remove(key(p)));
    // Restart a failed watch, but not one we stopped (stopping aborts it with an error).
    informer.on('error', () => {
      if (!runner.stopped) setTimeout(() => void (runner.stopped ? undefined : informer.start()), 500);
    });
    await informer.start();
    runner.stopInformer = () => informer.stop();
    return runner;
  }

  /** Called whenever the set of running pods changes (the proxy and Prometheus follow it). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  pods(): RunningPod[] {
    return [...this.running.values()].map((r) => r.pod);
  }

  private sync(p: V1Pod): void {
    if (!this.namespaces.includes(p.metadata?.namespace ?? '')) return;
    const k = key(p);
    const ip = p.status?.podIP;
    const live = p.status?.phase === 'Running' && ip && !p.metadata?.deletionTimestamp;
    if (!live) return this.remove(k);
    if (this.running.has(k)) return;
    // Never serve (or later route) anything off the machine: kwok must hand out loopback IPs.
    if (!ip.startsWith('127.'))
      throw new LoopbackAddressError(`pod ${k} has IP ${ip}, not a loopback address`);
    const c = p.spec?.containers[0];
    const port = c?.ports?.[0]?.containerPort ?? 9898;
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value ?? '']));
    const rs = p.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name ?? '';
    const hash = p.metadata?.labels?.['pod-template-hash'];
    const pod: RunningPod = {
      namespace: p.metadata?.namespace ?? '',
      name: p.metadata?.name ?? '',
      deployment: hash && rs.endsWith(`-${hash}`) ? rs.slice(0, -hash.length - 1) : rs,
      ip,
      port,
      version: c?.image?.split(':').at(-1) ?? 'latest',
      labels: p.metadata?.labels ?? {},
    };
    const options = {
      ...pod,
      pod: pod.name,
      errorRate: Number(env['PODINFO_ERROR_RATE'] ?? 0),
      latencyMs: Number(env['PODINFO_LATENCY_MS'] ?? 0),
    };
    const child = spawn(process.execPath, [APP, JSON.stringify(options)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.running.set(k, { pod, child });
    child.once('exit', () => {
      if (this.running.get(k)?.child === child) {
        this.running.delete(k);
        this.changed();
      }
    });
    this.changed();
  }

  private remove(k: string): void {
    const r = this.running.get(k);
    if (!r) return;
    this.running.delete(k);
    r.child.kill('SIGTERM');
    this.changed();
  }

  private changed(): void {
    if (this.stopped) return;
    for (const l of this.listeners) l();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stopInformer();
    const running = [...this.running.values()];
    this.running.clear();
    await Promise.all(running.map(({ pod, child }) => stopChild(child, `pod ${pod.namespace}/${pod.name}`)));
  }
}

const key = (p: V1Pod) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
