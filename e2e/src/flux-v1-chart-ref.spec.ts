import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRepository } from '@capstan/git/testing';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { packageChart } from '@capstan/render/testing';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// A Flux v1 repository whose HelmRelease takes its chart from another branch (chart.ref), the
// chart vendoring its dependency as a .tgz: the running services fetch the branch, keep the
// archive's bytes intact and apply what the chart renders; a ref that does not exist stops the Sync.
describe('Flux v1 HelmRelease with chart.ref on another branch', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `chartref-${id}`;
  const name = `chartref-${id}`;
  let root: string;
  let platform: Platform;
  let resources: CapstanResources;
  let repo: TestRepository;

  const release = (ref: string) => `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: site, namespace: ${ns}}
spec:
  releaseName: site
  chart: {git: "${repo.fileUrl}", ref: ${ref}, path: charts/site}
  values: {greeting: from-the-release}
`;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), `capstan-e2e-chartref-${id}-`));
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    repo = await TestRepository.create(root, 'fleet');
  });
  after(async () => {
    await platform.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('renders the chart from the branch chart.ref names, vendored dependency included', async () => {
    await repo.write({
      'deploy/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
    });
    repo.commit('namespace');
    repo.branch('charts');
    const lib = await packageChart(join(root, 'src'), 'lib', '1.0.0', join(root, 'packaged'));
    await repo.write({
      'charts/site/Chart.yaml':
        'apiVersion: v2\nname: site\nversion: 1.0.0\ndependencies:\n- {name: lib, version: 1.0.0, repository: "https://charts.invalid"}\n',
      'charts/site/values.yaml': 'greeting: from-the-chart\nglobal: {subchart: true}\n',
      'charts/site/templates/cm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: site}\ndata: {greeting: {{ .Values.greeting | quote }}, branch: charts}\n',
      'charts/site/charts/lib-1.0.0.tgz': await readFile(lib),
    });
    repo.commit('site chart on the charts branch');
    repo.branch('main');
    await repo.write({ 'deploy/site.yaml': release('charts') });
    const sha = repo.commit('release site from the charts branch');
    await applyYaml(platform.api, repositoryAndSync(name, repo.fileUrl, './deploy'));

    await waitFor(`Sync ${name} applied ${sha.slice(0, 8)}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${sha}` ? s : undefined;
    });
    const site = await readObject<{ data: Record<string, string> }>(
      platform.api,
      'v1',
      'ConfigMap',
      ns,
      'site',
    );
    assert.deepEqual(site?.data, { greeting: 'from-the-release', branch: 'charts' });
    const sub = await readObject<{ data: Record<string, string> }>(
      platform.api,
      'v1',
      'ConfigMap',
      ns,
      'site-lib',
    );
    assert.deepEqual(sub?.data, { version: '1.0.0' });
  });

  it('fails that release alone, naming the HelmRelease file and the ref, when the branch does not exist', async () => {
    await repo.write({ 'deploy/site.yaml': release('no-such-branch') });
    const bad = repo.commit('point at a branch that does not exist');
    // Each HelmRelease is its own release (Helm Operator): the Sync applies the rest and lists it.
    const sync = await waitFor(`Sync ${name} attempted ${bad.slice(0, 8)}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAttemptedRevision === `main@sha1:${bad}` &&
        !s.status.conditions?.some((c) => c.type === 'Reconciling')
        ? s
        : undefined;
    });
    const site = sync.status?.releases?.find((r) => r.name === 'site');
    assert.equal(site?.phase, 'Failed');
    assert.match(
      site.message,
      /deploy\/site\.yaml.*spec\.chart\.git .*@no-such-branch: .*ref no-such-branch not found/,
    );
    const live = await readObject<{ data: Record<string, string> }>(
      platform.api,
      'v1',
      'ConfigMap',
      ns,
      'site',
    );
    assert.equal(live?.data['branch'], 'charts', 'the last good release keeps running');
  });
});
