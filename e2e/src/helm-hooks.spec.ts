import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// Helm hooks in Helm's order, against the real API server, controller-manager and kwok (which
// runs Jobs' pods to completion): pre-install/pre-upgrade Jobs complete before the release's
// objects exist, post-* Jobs run once the release is healthy, an unchanged release runs no
// hooks, and a failing pre-install hook stops the release before any of its objects is applied.
const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };

interface Job {
  metadata: { uid: string; annotations?: Record<string, string> };
  status?: { completionTime?: string; conditions?: { type: string; status: string }[] };
}
interface Deployment {
  metadata: { creationTimestamp: string };
  spec: { template: { metadata: { annotations?: Record<string, string> } } };
  status?: { conditions?: { type: string; status: string; lastTransitionTime: string }[] };
}
interface DecisionItem {
  action: string;
  reason: string;
  changeSet?: { kind: string; name: string; action: string; message?: string }[];
}

const hookJob = (
  name: string,
  events: string,
  weight: string,
  policy: string,
  failing = false,
) => `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-${name}
  annotations:
    helm.sh/hook: ${events}
    helm.sh/hook-weight: "${weight}"
    helm.sh/hook-delete-policy: ${policy}
    release-note: {{ .Values.note | quote }}
spec:
  backoffLimit: 0
${failing ? '  activeDeadlineSeconds: 2\n' : ''}  template:
    spec:
      restartPolicy: Never
${failing ? '      nodeSelector: {capstan.dev/no-such-node: "true"}\n' : ''}      containers: [{name: run, image: "busybox:1.36", command: ["true"]}]
`;

const chart = (failing: boolean): Record<string, string> => ({
  'charts/shop/Chart.yaml': 'apiVersion: v2\nname: shop\nversion: 0.1.0\n',
  'charts/shop/values.yaml': 'note: first\n',
  'charts/shop/templates/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}}
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
      annotations: {release-note: {{ .Values.note | quote }}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`,
  'charts/shop/templates/migrate.yaml': hookJob(
    'migrate',
    'pre-install,pre-upgrade',
    '5',
    'before-hook-creation',
    failing,
  ),
  // Lower weight: runs before the migration.
  'charts/shop/templates/schema.yaml': hookJob('schema', 'pre-install', '-5', 'before-hook-creation'),
  'charts/shop/templates/smoke.yaml': hookJob(
    'smoke',
    'post-install,post-upgrade',
    '0',
    'before-hook-creation',
  ),
});

const release = (ns: string, url: string, note: string) => `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: shop, namespace: ${ns}}
spec:
  releaseName: shop
  chart: {git: "${url}", ref: main, path: charts/shop}
  values: {note: ${note}}
`;

describe('Helm hooks run in Helm order around the release', () => {
  const id = randomBytes(3).toString('hex');
  let platform: Platform;
  let resources: CapstanResources;
  const repos: GitRepo[] = [];

  const syncFor = (name: string, url: string) => repositoryAndSync(name, url, './', 'timeout: 2m');
  // Settled: the reconcile of this commit has finished (lastAttemptedRevision and Reconciling
  // are written together when it starts), whatever its verdict.
  const settled = (name: string, sha: string) =>
    waitFor(`Sync ${name} settled at ${sha.slice(0, 8)}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      const conditions = s.status?.conditions ?? [];
      const ready = conditions.find((c) => c.type === 'Ready');
      const reconciling = conditions.some((c) => c.type === 'Reconciling' && c.status === 'True');
      return s.status?.lastAttemptedRevision === `main@sha1:${sha}` && ready && !reconciling
        ? { sync: s, ready }
        : undefined;
    });
  const job = (ns: string, name: string) => readObject<Job>(platform.api, 'batch/v1', 'Job', ns, name);
  const deployment = (ns: string) =>
    readObject<Deployment>(platform.api, 'apps/v1', 'Deployment', ns, 'shop');
  const decisions = (sha: string) =>
    platform.auditGet<{ items: DecisionItem[] }>(
      `/api/v1/decisions?revision=${encodeURIComponent(`main@sha1:${sha}`)}&limit=500`,
    );

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
  });
  after(async () => {
    await platform.stop();
    for (const r of repos) await r.remove();
  });

  it('install, no-op and upgrade: pre hooks complete first, post hooks after the release is healthy', async () => {
    const name = `hooks-${id}`;
    const ns = `hooks-${id}`;
    const repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-hooks-${id}`));
    repos.push(repo);
    await repo.write({ ...chart(false), 'releases/shop.yaml': release(ns, repo.url, 'first') });
    const first = repo.commit('shop with hooks', ada);
    await applyYaml(platform.api, syncFor(name, repo.url));

    const { ready } = await settled(name, first);
    assert.equal(ready.status, 'True', ready.message);
    const schema = await job(ns, 'shop-schema');
    const migrate = await job(ns, 'shop-migrate');
    const smoke = await job(ns, 'shop-smoke');
    const web = await deployment(ns);
    assert.ok(
      schema?.status?.completionTime && migrate?.status?.completionTime && smoke?.status?.completionTime,
    );
    assert.ok(web);
    // Weight order among pre hooks, and both done before the release's Deployment was created.
    assert.ok(Date.parse(schema.status.completionTime) <= Date.parse(migrate.status.completionTime));
    assert.ok(Date.parse(migrate.status.completionTime) <= Date.parse(web.metadata.creationTimestamp));
    // The post-install hook ran only once the Deployment was available (the controller may
    // write the Available condition just after the replica counts health reads).
    const available = await waitFor('Deployment Available condition', async () =>
      (await deployment(ns))?.status?.conditions?.find((c) => c.type === 'Available' && c.status === 'True'),
    );
    assert.ok(Date.parse(available.lastTransitionTime) <= Date.parse(smoke.status.completionTime));

    const installed = await waitFor('applied decision', async () =>
      (await decisions(first)).items.find((d) => d.action === 'applied'),
    );
    const hookEntries = (installed.changeSet ?? []).filter((c) => c.message?.startsWith('helm hook'));
    assert.deepEqual(
      hookEntries.map((c) => c.name),
      ['shop-schema', 'shop-migrate', 'shop-smoke'],
      'hooks recorded in the decision, in the order they ran',
    );
    const sync = await resources.get('Sync', 'default', name);
    const ids = (sync.status?.inventory?.entries ?? []).map((e) => e.id);
    assert.ok(!ids.some((i) => i.endsWith('_Job')), `hooks are not in the inventory: ${ids.join(', ')}`);

    // A commit that leaves the release unchanged: Helm would not upgrade, so no hook runs.
    await repo.write({ 'README.md': 'docs only\n' });
    const docs = repo.commit('docs only', ada);
    assert.equal((await settled(name, docs)).ready.status, 'True');
    assert.equal((await job(ns, 'shop-migrate'))?.metadata.uid, migrate.metadata.uid, 'migration not rerun');

    // A values change is an upgrade: pre-upgrade runs afresh (before-hook-creation), the
    // pre-install-only hook does not, and the post-upgrade hook runs again.
    await repo.write({ 'releases/shop.yaml': release(ns, repo.url, 'second') });
    const upgrade = repo.commit('shop: new note', ada);
    assert.equal((await settled(name, upgrade)).ready.status, 'True');
    const migrated = await job(ns, 'shop-migrate');
    assert.notEqual(migrated?.metadata.uid, migrate.metadata.uid, 'migration ran again');
    assert.equal(migrated?.metadata.annotations?.['release-note'], 'second');
    assert.equal(
      (await job(ns, 'shop-schema'))?.metadata.uid,
      schema.metadata.uid,
      'pre-install only: not rerun',
    );
    assert.notEqual((await job(ns, 'shop-smoke'))?.metadata.uid, smoke.metadata.uid, 'post-upgrade ran');
    assert.equal((await deployment(ns))?.spec.template.metadata.annotations?.['release-note'], 'second');
  });

  it('a failing pre-install hook stops the release: none of its objects is applied', async () => {
    const name = `hookfail-${id}`;
    const ns = `hookfail-${id}`;
    const repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-hookfail-${id}`));
    repos.push(repo);
    await repo.write({ ...chart(true), 'releases/shop.yaml': release(ns, repo.url, 'first') });
    const sha = repo.commit('shop whose migration cannot run', ada);
    await applyYaml(platform.api, syncFor(name, repo.url));

    const { ready } = await settled(name, sha);
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'HookFailed');
    assert.match(ready.message, /shop-migrate/);
    assert.equal(await deployment(ns), undefined, 'the release objects were not applied');
    const failed = await waitFor('failed decision', async () =>
      (await decisions(sha)).items.find((d) => d.action === 'failed'),
    );
    assert.equal(failed.reason, 'HookFailed');
  });
});
