import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CapstanResources, createKubeConfig, type ObjectApi, type Sync } from '@capstan/kube';
import { sharedCluster } from '@capstan/testing';
import { GitRepo, applyYaml, installCrds, objectApi, waitFor } from '@capstan/e2e';
import type { BenchResult } from './harness.js';
import { chartEnv, chartSettings } from './chart-settings.js';
import { startChild, type Child } from './child-service.js';
import { loadMassReconcileConfig } from './mass-reconcile.config.js';
import { apiServerRequests, requestDelta } from './api-requests.js';

/**
 * Flux's mean-time-to-production benchmark, for Capstan: N Syncs, each a Deployment, a Service
 * and a ConfigMap from its own folder of one repository, timed from a cold start of the
 * reconciler until every Sync is Ready. The reconciler and git-watcher run as child processes
 * (as in their containers) so their RSS and CPU are theirs alone.
 */
export async function massReconcile(): Promise<BenchResult> {
  const config = loadMassReconcileConfig();
  const counts = config.BENCH_SYNCS.split(',').map(Number);
  const { kubeconfigPath } = await sharedCluster();
  const api = objectApi(kubeconfigPath);
  await installCrds(api);
  const rows: Run[] = [];
  for (const n of counts) rows.push(await runOnce(n, kubeconfigPath, api, config));
  const largest = rows[rows.length - 1];
  const { nodeOptions, env: chartExtraEnv } = await chartSettings('reconciler');
  const extraEnv = Object.entries(chartExtraEnv)
    .map(([k, v]) => `; ${k}=${v}`)
    .join('');
  const r1 = (x: number) => x.toFixed(1);
  const table = rows
    .map(
      (r) =>
        `| ${r.syncs} | ${r1(r.seconds)} | ${r.peakRssMiB.toFixed(0)} | ${r.heapAtPeakMiB.toFixed(0)} / ${r.heapTotalAtPeakMiB.toFixed(0)} / ${r.externalAtPeakMiB.toFixed(0)} | ${r.cpu.map((c) => `${c.name} ${r1(c.cores)}`).join(', ')} |`,
    )
    .join('\n');
  const phases = (largest?.phases ?? [])
    .map((p) => `| ${p.phase} | ${p.count} | ${p.meanMs.toFixed(0)} |`)
    .join('\n');
  return {
    name: 'mass-reconcile',
    value: Math.round((largest?.seconds ?? 0) * 10) / 10,
    unit: `s for ${largest?.syncs ?? 0} Syncs`,
    target: '1000 Syncs in 60 s on 2 cores, reconciler RSS < 200 MiB',
    details: `N Syncs, each a Deployment (1 replica) + Service + ConfigMap from its own folder of one Git repository (spec.wait ${config.BENCH_WAIT}: ${config.BENCH_WAIT === 'true' ? 'Ready means the Deployment is Available' : 'Ready means applied'}), timed from the reconciler's cold start (Syncs and the repository artifact already exist) until every Sync is Ready at the commit. Reconciler concurrency ${config.BENCH_RECONCILE_CONCURRENCY ?? 'default'}, NODE_OPTIONS and environment as the Helm chart sets them (${nodeOptions || 'none'}${extraEnv}). Shaped like Flux's mean-time-to-production benchmark (Flux v2.6 on 16 cores: 100 in 28 s, 500 in 2 min 2 s, 1000 in 4 min 16 s; kustomize-controller 175 MiB at 1000). The local control plane runs kube-controller-manager and kube-scheduler with 500 requests/s client limits (their default of 20 would make the Deployment controller the bound).

| Syncs | seconds to all Ready | reconciler peak RSS (MiB) | at that peak: V8 heap in use / V8 heap reserved / external (MiB) | average CPU cores used during the run |
|---|---|---|---|---|
${table}

Reconcile phases at ${largest?.syncs ?? 0} Syncs (the reconciler's own histogram; health is time waiting for the Deployment, with the queue slot given back):

| phase | reconciles | mean ms |
|---|---|---|
${phases}

CPU is read from /proc/<pid>/stat for each process over the run; a process near the machine's core count is the bound.`,
  };
}

export interface Run {
  syncs: number;
  seconds: number;
  peakRssMiB: number;
  /** V8 heap in use when RSS peaked (the rest is V8's reserve, buffers and code). */
  heapAtPeakMiB: number;
  /** V8 heap reserved (committed) and memory outside it (Buffers, TLS) when RSS peaked. */
  heapTotalAtPeakMiB: number;
  externalAtPeakMiB: number;
  /** Per reconcile phase: how many ran and their mean duration, from the reconciler's histogram. */
  phases: { phase: string; count: number; meanMs: number }[];
  /** What the API server served during the run (every client), `verb resource: n`, largest first. */
  requests: string[];
  cpu: { name: string; cores: number }[];
}

/**
 * One run of N Syncs. `impersonate`: every Sync names its own ServiceAccount (a thousand
 * tenants' worth of impersonating clients), all bound to `admin` of the namespace through the
 * namespace's ServiceAccount group, so the API server's RBAC check stays one binding.
 */
export async function runOnce(
  n: number,
  kubeconfigPath: string,
  api: ObjectApi,
  config: ReturnType<typeof loadMassReconcileConfig>,
  impersonate = false,
  /** The reconciler's own credentials (default: the cluster's admin kubeconfig). */
  reconcilerKubeconfig = kubeconfigPath,
): Promise<Run> {
  const id = randomBytes(3).toString('hex');
  const ns = `mass-${id}`;
  const scratch = await mkdtemp(join(tmpdir(), `capstan-mass-${id}-`));
  const repo = await GitRepo.create(join(scratch, 'repo'));
  const resources = new CapstanResources(createKubeConfig(kubeconfigPath));
  const env = {
    KUBECONFIG: kubeconfigPath,
    NATS_URL: config.NATS_URL,
    EVENT_PREFIX: `b${id}`,
    LOG_LEVEL: 'warn',
    CLUSTER_NAME: 'bench',
    HTTP_HOST: '127.0.0.1',
    // The benchmark's repository is local (file://), which the chart leaves off.
    SOURCE_SCHEMES: 'https,http,ssh,git,file',
    ...(config.BENCH_RECONCILE_CONCURRENCY
      ? { RECONCILE_CONCURRENCY: String(config.BENCH_RECONCILE_CONCURRENCY) }
      : {}),
  };
  const children: Child[] = [];
  try {
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const app = `app-${String(i).padStart(4, '0')}`;
      files[`apps/${app}/deployment.yaml`] = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${app}, namespace: ${ns}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${app}}}
  template:
    metadata: {labels: {app: ${app}}}
    spec: {containers: [{name: app, image: "nginx:1.27"}]}
`;
      files[`apps/${app}/service.yaml`] =
        `apiVersion: v1\nkind: Service\nmetadata: {name: ${app}, namespace: ${ns}}\nspec: {selector: {app: ${app}}, ports: [{port: 80}]}\n`;
      files[`apps/${app}/configmap.yaml`] =
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${app}, namespace: ${ns}}\ndata: {index: "${i}"}\n`;
    }
    await repo.write(files);
    const sha = repo.commit(`${n} apps`, { name: 'Bench', email: 'bench@example.com' });
    await applyYaml(api, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    if (impersonate) {
      await applyYaml(
        api,
        `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenants-admin, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:serviceaccounts:${ns}"}]
`,
      );
      for (let i = 0; i < n; i += 50)
        await Promise.all(
          Array.from({ length: Math.min(50, n - i) }, (_, k) =>
            api.applyRaw(
              {
                apiVersion: 'v1',
                kind: 'ServiceAccount',
                metadata: { name: `app-${String(i + k).padStart(4, '0')}`, namespace: ns },
              },
              { fieldManager: 'bench' },
            ),
          ),
        );
    }
    await applyYaml(
      api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: apps, namespace: ${ns}}
spec: {url: "${repo.url}", ref: {branch: main}, interval: 10m}
`,
    );
    children.push(await startChild('git-watcher', { ...env, GIT_CACHE_DIR: join(scratch, 'gw') }, scratch));
    await waitFor(
      'repository artifact',
      async () =>
        (await resources.get('GitRepository', ns, 'apps')).status?.artifact?.sha === sha ? true : undefined,
      120_000,
    );
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, k) => {
          const app = `app-${String(i + k).padStart(4, '0')}`;
          return api.applyRaw(
            {
              apiVersion: 'capstan.dev/v1alpha1',
              kind: 'Sync',
              metadata: { name: app, namespace: ns },
              spec: {
                sourceRef: { kind: 'GitRepository', name: 'apps' },
                path: `./apps/${app}`,
                interval: '1h',
                wait: config.BENCH_WAIT === 'true',
                timeout: '10m',
                ...(impersonate ? { serviceAccountName: app } : {}),
              },
            },
            { fieldManager: 'bench' },
          );
        }),
      );
    }

    const pids = await clusterPids(kubeconfigPath);
    const requestsBefore = await apiServerRequests(kubeconfigPath).catch(() => new Map<string, number>());
    const started = performance.now();
    const reconciler = await startChild(
      'reconciler',
      {
        ...env,
        KUBECONFIG: reconcilerKubeconfig,
        GIT_CACHE_DIR: join(scratch, 'rec'),
        // The chart's NODE_OPTIONS and the reconciler's extraEnv, as the Deployment gets them.
        ...(await chartEnv('reconciler')),
      },
      scratch,
      config.BENCH_RECONCILER_ROOT,
    );
    children.push(reconciler);
    const watched = [
      { name: 'reconciler', pid: reconciler.pid },
      { name: 'git-watcher', pid: children[0]?.pid ?? 0 },
      ...pids,
    ];
    const cpuBefore = await Promise.all(watched.map((p) => cpuSeconds(p.pid)));
    let peakRss = 0;
    let atPeak: HeapAtPeak = { used: 0, total: 0, external: 0 };
    const sampler = setInterval(() => {
      void rssBytes(reconciler.pid).then(async (r) => {
        if (r <= peakRss) return;
        peakRss = r;
        atPeak = await heapAt(reconciler.port).catch(() => atPeak);
      });
    }, 250);
    try {
      await allReady(resources, ns, n, `main@sha1:${sha}`, 15 * 60_000);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const phases = await phaseTimes(reconciler.port);
    const cpuAfter = await Promise.all(watched.map((p) => cpuSeconds(p.pid)));
    const requests = requestDelta(
      requestsBefore,
      await apiServerRequests(kubeconfigPath).catch(() => new Map<string, number>()),
    );
    const run = {
      syncs: n,
      seconds,
      peakRssMiB: peakRss / 2 ** 20,
      heapAtPeakMiB: atPeak.used / 2 ** 20,
      heapTotalAtPeakMiB: atPeak.total / 2 ** 20,
      externalAtPeakMiB: atPeak.external / 2 ** 20,
      phases,
      requests,
      cpu: watched.map((p, i) => ({
        name: p.name,
        cores: ((cpuAfter[i] ?? 0) - (cpuBefore[i] ?? 0)) / seconds,
      })),
    };
    process.stderr.write(`mass-reconcile ${JSON.stringify(run)}\n`);
    return run;
  } finally {
    for (const c of children.reverse()) await c.stop();
    await api.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
    // The namespace controller deletes a thousand Deployments and their pods after this returns:
    // the next run must not share the API server with that (it did, and looked slower for it).
    await waitFor(
      `namespace ${ns} gone`,
      async () =>
        (await api
          .read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
          .then(() => false)
          .catch(() => true))
          ? true
          : undefined,
      10 * 60_000,
    ).catch(() =>
      process.stderr.write(`mass-reconcile: namespace ${ns} still terminating after 10 min
`),
    );
    await rm(scratch, { recursive: true, force: true });
  }
}

/** kube-apiserver, etcd and friends, from the local cluster's state file when there is one. */
async function clusterPids(kubeconfigPath: string): Promise<{ name: string; pid: number }[]> {
  try {
    const state = JSON.parse(await readFile(join(dirname(kubeconfigPath), 'state.json'), 'utf8')) as {
      processes?: { name: string; pid: number }[];
    };
    return (state.processes ?? []).map((p) => ({ name: p.name, pid: p.pid }));
  } catch {
    return [];
  }
}

/**
 * Waits on a watch, as `kubectl wait` would: polling a list of a thousand Syncs every 100 ms
 * cost the API server more CPU than the reconcile being measured.
 */
async function allReady(
  resources: CapstanResources,
  ns: string,
  n: number,
  revision: string,
  timeoutMs: number,
): Promise<void> {
  const informer = resources.informer('Sync');
  const ready = new Set<string>();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${ready.size}/${n} Syncs Ready after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const seen = (s: Sync) => {
        if (s.metadata.namespace !== ns) return;
        const ok =
          s.status?.lastAppliedRevision === revision &&
          s.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (ok) ready.add(s.metadata.name);
        if (ready.size === n) {
          clearTimeout(timer);
          resolve();
        }
      };
      informer.on('add', seen);
      informer.on('update', seen);
      informer.on('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
      informer.start().catch(reject);
    });
  } finally {
    await informer.stop();
  }
}

/** From the service's prom-client default metrics. */
interface HeapAtPeak {
  used: number;
  total: number;
  external: number;
}

async function heapAt(port: number): Promise<HeapAtPeak> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const gauge = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    used: gauge('nodejs_heap_size_used_bytes'),
    total: gauge('nodejs_heap_size_total_bytes'),
    external: gauge('nodejs_external_memory_bytes'),
  };
}

async function phaseTimes(port: number): Promise<Run['phases']> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const pick = (suffix: string) =>
    new Map(
      [
        ...text.matchAll(
          new RegExp(
            `^capstan_reconcile_phase_seconds_${suffix}\\{[^}]*phase="([^"]+)"[^}]*\\} (\\S+)$`,
            'gm',
          ),
        ),
      ].map((m) => [m[1] ?? '', Number(m[2])]),
    );
  const sums = pick('sum');
  return [...pick('count')].map(([phase, count]) => ({
    phase,
    count,
    meanMs: count > 0 ? ((sums.get(phase) ?? 0) / count) * 1000 : 0,
  }));
}

async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}
