import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watch, type KubernetesObject } from '@kubernetes/client-node';
import { createKubeConfig } from '@capstan/kube';
import { GitRepo, Platform, applyYaml, readObject, waitFor } from '@capstan/e2e';
import { percentile, type BenchResult } from './harness.js';

const CHANGES = 200;
const DESIRED = 2;

interface Deployment {
  metadata: { resourceVersion: string };
  spec: { replicas: number };
}

/**
 * From a manual change (`kubectl` server-side applies spec.replicas with force) to Capstan's
 * correction visible in the API server, through the real reconciler: its watch sees the change,
 * compares owned fields, records the drift on JetStream and re-applies. The clock starts when the
 * API server has accepted the change and stops when a watch of our own sees replicas back.
 */
export async function drift(): Promise<BenchResult> {
  const platform = await Platform.start();
  const id = randomBytes(3).toString('hex');
  const repo = await GitRepo.create(join(tmpdir(), `capstan-bench-drift-${id}`));
  const ns = `bench-drift-${id}`;
  let stopWatch: (() => void) | undefined;
  try {
    await repo.write({
      'app/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'app/web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${DESIRED}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`,
    });
    repo.commit('initial', { name: 'Bench', email: 'bench@example.com' });
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${ns}, namespace: default}
spec: {url: "${repo.url}", interval: 1s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${ns}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${ns}}, path: ./app, interval: 10m}
`,
    );
    const read = () => readObject<Deployment>(platform.api, 'apps/v1', 'Deployment', ns, 'web');
    await waitFor(
      'initial apply',
      async () => ((await read())?.spec.replicas === DESIRED ? true : undefined),
      120_000,
    );

    // Our own watch sees the correction the moment the API server has it, without polling.
    const seen: { rv: number; replicas: number; at: number }[] = [];
    let waiter: { afterRv: number; resolve: (at: number) => void } | undefined;
    const settle = () => {
      const w = waiter;
      const hit = w && seen.find((e) => e.replicas === DESIRED && e.rv > w.afterRv);
      if (!w || !hit) return;
      w.resolve(hit.at);
      waiter = undefined;
    };
    const watch = await new Watch(createKubeConfig(platform.kubeconfigPath)).watch(
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      { fieldSelector: 'metadata.name=web' },
      (_type: string, obj: Deployment) => {
        const at = performance.now();
        if (
          waiter &&
          obj.spec.replicas === DESIRED &&
          Number(obj.metadata.resourceVersion) > waiter.afterRv
        ) {
          waiter.resolve(at);
          waiter = undefined;
        }
      },
      () => undefined,
    );
    stopWatch = () => watch.abort();

    const latencies: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const replicas = 3 + (i % 5);
      seen.length = 0;
      const start = performance.now();
      const change: KubernetesObject & { spec: { replicas: number } } = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: { replicas },
      };
      const changed = await platform.api.applyRaw(change, { fieldManager: 'kubectl', force: true });
      const corrected = new Promise<number>((resolve) => {
        waiter = { afterRv: Number(changed.metadata?.resourceVersion), resolve };
        settle();
      });
      const timeout = new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`change ${i + 1} not corrected within 30 s`)), 30_000),
      );
      latencies.push((await Promise.race([corrected, timeout])) - start);
    }

    const detected = await waitFor(
      `${CHANGES} drift.detected decisions in the audit log`,
      async () => {
        const { items } = await platform.auditGet<{ items: unknown[] }>(
          `/api/v1/decisions?action=drift.detected&limit=500`,
        );
        return items.length >= CHANGES ? items.length : undefined;
      },
      60_000,
    );
    const corrections = (await (await fetch(`${platform.reconcilerUrl}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('capstan_drift_corrections_total'))
      .map((l) => `${/result="([^"]+)"/.exec(l)?.[1] ?? '?'} ${l.split(' ').pop() ?? ''}`)
      .join(', ');
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    const p99 = percentile(sorted, 99);
    const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    const r = (n: number) => n.toFixed(0);
    return {
      name: 'drift-correction',
      value: Math.round(p99),
      unit: 'ms (p99)',
      target: 'p99 < 1 s (Argo CD self-heal waits ~5 s; Flux corrects at the next interval)',
      details: `${CHANGES} manual changes of a Deployment's spec.replicas (field manager \`kubectl\`, server-side apply with force), one after another, each timed from sending the change to a watch seeing Capstan's correction. Includes the monitor's 50 ms debounce, publishing drift.detected on JetStream and the server-side apply; ${detected} drift.detected decisions reached the audit log. Corrections by result: ${corrections} (a conflict is a correction whose resourceVersion precondition failed, usually because the Deployment controller wrote status in between; it is judged again at once).

| statistic | ms |
|---|---|
| p50 | ${r(p50)} |
| p95 | ${r(p95)} |
| p99 | ${r(p99)} |
| mean | ${r(mean)} |
| min / max | ${r(sorted[0] ?? 0)} / ${r(sorted[sorted.length - 1] ?? 0)} |`,
    };
  } finally {
    stopWatch?.();
    await platform.stop();
    await repo.remove();
  }
}
