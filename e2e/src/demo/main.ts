// `npm run demo`: Capstan's main job end to end on this machine. Starts the local Kubernetes
// control plane, the five services as real processes, a local Git repository with a sample app;
// commits; waits until the app runs in the cluster; prints who deployed it; then promotes a
// canary step by step on a loopback data plane.
import { mkdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '@capstan/db';
import { run as capstan } from '@capstan/cli';
import { ensureCluster, defaultRunDir, startDataPlane } from '@capstan/testing';
import { GitRepo } from '../support/git-repo.js';
import { applyYaml, installCrds, objectApi, readObject } from '../support/kube.js';
import { kubeconfigToken } from '../support/platform.js';
import { spawnService, type ServiceProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { demoApp } from './sample-app.js';
import { showImageAutomation } from './image-automation-step.js';
import { showTenancy } from './tenancy-step.js';
import { showValidation } from './validation-step.js';
import { showWhatRuns } from './console-step.js';
import { CANARY_DEMO_NAMESPACE, showCanaryPromotion } from './canary-step.js';

const say = (s: string) => process.stdout.write(`[demo] ${s}\n`);
const home = join(homedir(), '.cache/capstan/demo');
const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const serverUrl = process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function main(): Promise<void> {
  await rm(home, { recursive: true, force: true });
  await mkdir(join(home, 'logs'), { recursive: true });

  say(
    'starting the local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)',
  );
  const cluster = await ensureCluster({ dir: defaultRunDir(), log: () => undefined });
  say(`cluster ready: KUBECONFIG=${cluster.kubeconfigPath}`);
  const api = objectApi(cluster.kubeconfigPath);
  await installCrds(api);

  const databaseUrl = await freshDatabase('capstan_demo');
  const migrated = await migrate(databaseUrl);
  say(`database capstan_demo migrated (${migrated.applied.length} migrations)`);

  const env = {
    KUBECONFIG: cluster.kubeconfigPath,
    NATS_URL: natsUrl,
    DATABASE_URL: databaseUrl,
    EVENT_PREFIX: 'capstan-demo',
    CLUSTER_NAME: 'local',
    LOG_LEVEL: 'log',
    // The demo's repository is on this machine (file://), which the chart leaves off.
    SOURCE_SCHEMES: 'https,http,ssh,git,file',
  };
  // The canary data plane: podinfo processes on loopback pod IPs, HAProxy, Prometheus.
  const plane = await startDataPlane(cluster.kubeconfigPath, [CANARY_DEMO_NAMESPACE]);
  const canaryEnv = { METRICS_SERVER: plane.prometheus.url, MIN_INTERVAL: '1s' };
  const services: ServiceProcess[] = [];
  const names = ['audit', 'git-watcher', 'reconciler', 'registry-watcher', 'canary-analyzer'];
  try {
    for (const [i, name] of names.entries()) {
      services.push(
        await spawnService(
          name,
          18_080 + i,
          {
            ...env,
            GIT_CACHE_DIR: join(home, 'cache', name),
            ...(name === 'canary-analyzer' ? canaryEnv : {}),
          },
          join(home, 'logs'),
        ),
      );
      say(`${name} ready on http://127.0.0.1:${18_080 + i} (/healthz, /readyz, /metrics)`);
    }
    const auditUrl = services[0]?.url ?? '';
    // The audit API wants a Kubernetes bearer token; the demo uses the cluster admin's.
    const auditToken = kubeconfigToken(cluster.kubeconfigPath);

    const repo = await GitRepo.create(join(home, 'repo'));
    await repo.write(demoApp);
    const author = { name: 'Demo Developer', email: 'dev@example.com' };
    const sha = repo.commit('Deploy hello-web v1', author);
    const pushedAt = Date.now();
    say(`pushed ${sha.slice(0, 12)} to ${repo.url} as ${author.name} <${author.email}>`);

    await applyYaml(
      api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: demo, namespace: default}
spec: {url: "${repo.url}", ref: {branch: main}, interval: 2s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: demo, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: demo}, path: ./apps/hello, interval: 5m, prune: true}
`,
    );
    await waitFor(
      'Deployment demo/hello-web',
      () => readObject(api, 'apps/v1', 'Deployment', 'demo', 'hello-web'),
      120_000,
    );
    say(
      `Deployment demo/hello-web is in the cluster ${((Date.now() - pushedAt) / 1000).toFixed(1)} s after the push`,
    );
    await waitFor(
      'hello-web Available',
      async () => {
        const d = await readObject<{ status?: { availableReplicas?: number } }>(
          api,
          'apps/v1',
          'Deployment',
          'demo',
          'hello-web',
        );
        return (d?.status?.availableReplicas ?? 0) >= 2 ? true : undefined;
      },
      120_000,
    );
    say('hello-web is Available (2/2 pods Ready on the kwok node)');

    await waitFor('the audit record', async () => {
      const res = await fetch(`${auditUrl}/api/v1/objects/demo/Deployment/hello-web/history`, {
        headers: { authorization: `Bearer ${auditToken}` },
      });
      return res.ok && ((await res.json()) as { items: unknown[] }).items.length > 0 ? true : undefined;
    });
    say(
      `who deployed demo/Deployment/hello-web?  (capstan who demo/Deployment/hello-web --server ${auditUrl})\n`,
    );
    const code = await capstan(
      ['who', 'demo/Deployment/hello-web', '--server', auditUrl],
      (s) => process.stdout.write(`${s}\n`),
      (s) => process.stderr.write(`${s}\n`),
      { CAPSTAN_TOKEN: auditToken },
    );
    if (code !== 0) throw new Error(`capstan who exited ${code}`);
    process.stdout.write('\n');
    await showValidation(say, repo.work, cluster.kubeconfigPath);
    await showTenancy(say, api, home);
    await showImageAutomation(say, api, repo, { url: auditUrl, token: auditToken });
    await showWhatRuns(say, auditUrl, cluster.kubeconfigPath);
    await showCanaryPromotion(say, api, plane, { url: auditUrl, token: auditToken });
    say(`logs: ${join(home, 'logs')}; the cluster keeps running (npm run cluster:stop to stop it)`);
  } finally {
    for (const s of services.reverse()) await s.stop();
    await plane.stop();
  }
}

try {
  await main();
} catch (e) {
  process.stderr.write(`[demo] failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
