import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as capstan } from '@capstan/cli';
import { CapstanResources, createKubeConfig, type Sync } from '@capstan/kube';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject, repoRoot } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// Flux v1 + Helm Operator semantics against the real API server, helm, NATS and Postgres: each
// HelmRelease is its own release (one that cannot render is that release's failure, the others
// deploy), the Sync's status lists them, its objects carry its name, `capstan who hr/<name>`
// answers, and fluxcd.io/ignore on a release never deletes what it rendered. The repository is
// named by a public URL and fetched from a mirror through the URL rewrite table.
const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };

interface DecisionItem {
  action: string;
  reason: string;
  message: string;
}

describe('Flux v1 HelmReleases, each its own release', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `hr-${id}`;
  const name = `hr-${id}`;
  let platform: Platform;
  let resources: CapstanResources;
  let repo: GitRepo;
  let deadUrl: string;
  let first = '';

  const release = (release: string, chart: string, extra = '') => `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: ${release}
  namespace: ${ns}${extra}
spec:
  releaseName: ${release}
  chart: ${chart}
  values: {replicaCount: 1}
`;
  // Git names the public URL; the cluster fetches it from its mirror (URL_REWRITES, like insteadOf).
  const publicUrl = `https://git.example.invalid/team/hr-${id}.git`;
  const gitChart = () => `{git: "${publicUrl}", ref: main, path: charts/greeter}`;
  const deployment = (n: string) =>
    readObject<{ metadata: { labels?: Record<string, string> }; spec: { replicas: number } }>(
      platform.api,
      'apps/v1',
      'Deployment',
      ns,
      n,
    );
  const syncAt = (sha: string) =>
    waitFor(`Sync attempted ${sha.slice(0, 8)}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAttemptedRevision === `main@sha1:${sha}` &&
        !s.status.conditions?.some((c) => c.type === 'Reconciling')
        ? s
        : undefined;
    });
  const who = async (object: string) => {
    const out: string[] = [];
    const code = await capstan(
      ['who', object, '--server', platform.auditUrl],
      (s) => out.push(s),
      (s) => out.push(s),
      platform.cliEnv,
    );
    return { code, out: out.join('\n') };
  };

  before(async () => {
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-hr-${id}`));
    platform = await Platform.start({ URL_REWRITES: JSON.stringify({ [publicUrl]: repo.url }) });
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    // A Helm repository that refuses connections: a port that was free a moment ago.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    deadUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/charts`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const chartDir = join(repoRoot, 'e2e/fixtures/flux-v1/charts/greeter');
    const chart: Record<string, string> = {};
    for (const file of await readdir(chartDir, { recursive: true, withFileTypes: true }))
      if (file.isFile()) {
        const full = join(file.parentPath, file.name);
        chart[`charts/greeter/${full.slice(chartDir.length + 1)}`] = await readFile(full, 'utf8');
      }
    await repo.write({
      ...chart,
      'namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'releases/alpha.yaml': release('alpha', gitChart()),
      'releases/beta.yaml': release('beta', gitChart()),
      'releases/broken.yaml': release('broken', `{repository: "${deadUrl}", name: podinfo, version: 6.5.0}`),
    });
    first = repo.commit('three releases, one with an unreachable chart repository', ada);
    await applyYaml(platform.api, repositoryAndSync(name, publicUrl, './'));
  });
  after(async () => {
    await platform.stop();
    await repo.remove();
  });

  it('deploys the two good releases while the broken one fails on its own, naming its file, URL and cause', async () => {
    const sync: Sync = await syncAt(first);
    const ready = sync.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True', ready?.message);
    assert.equal(sync.status?.lastAppliedRevision, `main@sha1:${first}`);
    assert.equal((await deployment('alpha'))?.spec.replicas, 1);
    assert.equal((await deployment('beta'))?.spec.replicas, 1);

    const releases = sync.status.releases ?? [];
    assert.deepEqual(releases.map((r) => `${r.name} ${r.phase}`).sort(), [
      'alpha Deployed',
      'beta Deployed',
      'broken Failed',
    ]);
    const broken = releases.find((r) => r.name === 'broken');
    assert.ok(broken, 'the broken release is listed');
    assert.match(broken.file, /releases\/broken\.yaml$/);
    assert.ok(broken.message.includes(deadUrl), broken.message);
    assert.match(broken.message, /ECONNREFUSED/);

    // Each HelmRelease exists in the cluster with Helm Operator's status and kstatus conditions.
    const hrStatus = (n: string) =>
      waitFor(`HelmRelease ${n} status`, async () => {
        const o = await readObject<{
          metadata: { generation?: number };
          status?: {
            phase?: string;
            releaseStatus?: string;
            observedGeneration?: number;
            lastAttemptedRevision?: string;
            retries?: number;
            nextRetryAt?: string;
            conditions?: { type: string; status: string; message: string }[];
          };
        }>(platform.api, 'helm.fluxcd.io/v1', 'HelmRelease', ns, n);
        return o?.status?.lastAttemptedRevision === `main@sha1:${first}` ? o : undefined;
      });
    const alpha = await hrStatus('alpha');
    assert.equal(alpha.status?.phase, 'Deployed');
    assert.equal(alpha.status.observedGeneration, alpha.metadata.generation);
    assert.equal(alpha.status.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const brokenHr = await hrStatus('broken');
    assert.equal(brokenHr.status?.phase, 'ChartFetchFailed');
    assert.equal(brokenHr.status.releaseStatus, 'failed');
    // It retries on its own backoff, shown in its own status; the Sync is not in backoff.
    assert.ok((brokenHr.status.retries ?? 0) >= 1, `retries: ${brokenHr.status.retries}`);
    assert.ok(!Number.isNaN(Date.parse(brokenHr.status.nextRetryAt ?? '')), 'its next attempt is scheduled');
    assert.match(brokenHr.status.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /ECONNREFUSED/);

    const failed = await waitFor('the release failure is its own decision', async () =>
      (
        await platform.auditGet<{ items: DecisionItem[] }>(
          `/api/v1/decisions?revision=${encodeURIComponent(`main@sha1:${first}`)}&limit=50`,
        )
      ).items.find((d) => d.action === 'failed'),
    );
    assert.equal(failed.reason, 'ReleaseFailed');
    assert.match(
      failed.message,
      new RegExp(`HelmRelease ${ns}/broken left out .*releases/broken\\.yaml.*ECONNREFUSED`),
    );

    // `capstan diff` sees it as the reconciler does: through the URL rewrites to the mirror, the
    // two good releases unchanged, the broken one a warning (the rest applies), not a failure.
    const out: string[] = [];
    const err: string[] = [];
    const code = await capstan(
      ['diff', `sync/${name}`, '-n', 'default'],
      (t) => out.push(t),
      (t) => err.push(t),
      {
        ...platform.cliEnv,
        KUBECONFIG: platform.kubeconfigPath,
        CAPSTAN_CACHE_DIR: join(tmpdir(), `capstan-e2e-hr-cli-${id}`),
        CAPSTAN_URL_REWRITES: JSON.stringify({ [publicUrl]: repo.url }),
      },
    );
    assert.equal(code, 0, `${out.join('\n')}\n${err.join('\n')}`);
    assert.match(out.join('\n'), /No changes/);
    assert.match(err.join('\n'), new RegExp(`warning: left out: HelmRelease ${ns}/broken .*ECONNREFUSED`));
  });

  it('labels rendered objects with their HelmRelease; `capstan who` and `capstan history` answer for hr/<name>', async () => {
    const alpha = await deployment('alpha');
    assert.equal(alpha?.metadata.labels?.['capstan.dev/helmrelease-name'], 'alpha');
    assert.equal(alpha.metadata.labels['capstan.dev/helmrelease-namespace'], ns);
    const applied = await waitFor('who hr/alpha', async () => {
      const r = await who(`${ns}/hr/alpha`);
      return /applied/.test(r.out) ? r : undefined;
    });
    assert.equal(applied.code, 0);
    assert.match(applied.out, /Ada Lovelace/);
    // The release's history: each revision with its chart version, values digest and actor.
    const history = await waitFor('history hr/alpha', async () => {
      const out: string[] = [];
      const code = await capstan(
        ['history', `${ns}/hr/alpha`, '--server', platform.auditUrl],
        (s) => out.push(s),
        (s) => out.push(s),
        platform.cliEnv,
      );
      const text = out.join('\n');
      return code === 0 && /greeter-0\.3\.0/.test(text) ? text : undefined;
    });
    assert.match(history, /main@sha1:[0-9a-f]{12}\s+greeter-0\.3\.0\s+sha256:[0-9a-f]{12}\s+Ada Lovelace/);
    const broken = await waitFor('who helmrelease/broken', async () => {
      const r = await who(`${ns}/helmrelease/broken`);
      return /failed/.test(r.out) ? r : undefined;
    });
    assert.match(broken.out, /failed/);
  });

  it('never deletes what a release rendered when it is marked fluxcd.io/ignore, and keeps a failed release running', async () => {
    await repo.write({
      'releases/alpha.yaml': release(
        'alpha',
        gitChart(),
        '\n  annotations: {fluxcd.io/ignore: "true"}',
      ).replace('replicaCount: 1', 'replicaCount: 3'),
      // beta breaks now (a chart path that does not exist): its running objects stay.
      'releases/beta.yaml': release('beta', gitChart().replace('charts/greeter', 'charts/missing')),
    });
    const sha = repo.commit('ignore alpha, break beta', ada);
    const sync = await syncAt(sha);
    assert.equal(sync.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal((await deployment('alpha'))?.spec.replicas, 1, 'ignored: neither pruned nor changed');
    assert.ok(await deployment('beta'), 'a failed release is not pruned');
    const beta = sync.status.releases?.find((r) => r.name === 'beta');
    assert.equal(beta?.phase, 'Failed');
    assert.match(beta.message, /releases\/beta\.yaml.*charts\/missing/);
    assert.ok(
      sync.status.inventory?.entries.some((e) => e.id === `${ns}_beta_apps_Deployment`),
      'a failed release keeps its objects in the inventory',
    );

    // Fixing beta brings it back under management; dropping alpha's file prunes nothing of it.
    await repo.write({
      'releases/beta.yaml': release('beta', gitChart()).replace('replicaCount: 1', 'replicaCount: 2'),
    });
    const fixed = repo.commit('fix beta', ada);
    await syncAt(fixed);
    assert.equal((await deployment('beta'))?.spec.replicas, 2);
    assert.equal((await deployment('alpha'))?.spec.replicas, 1);
  });
});
