import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitMirror } from '@capstan/git';
import { TestRepository } from '@capstan/git/testing';
import { createKubeConfig } from '@capstan/kube';
import { ChartRepository, packageChart } from './testing/index.js';
import { sharedCluster } from '@capstan/testing';
import { CommitRenderer } from './commit-renderer.js';
import { HttpChartFetcher } from './chart-fetcher.js';
import { KubeValuesSource } from './values-source.js';
import type { RenderResult } from './render.js';

// The build phase from a real repository (read through the bare mirror, written to disk) to the
// real helm binary, with chart dependencies from a real Helm HTTP repository on 127.0.0.1.
describe('CommitRenderer', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `builder-${id}`;
  let root: string;
  let repo: TestRepository;
  let charts: ChartRepository;
  let mirror: GitMirror;
  let builder: CommitRenderer;

  const appChart = (name: string) => ({
    [`charts/${name}/Chart.yaml`]: `apiVersion: v2\nname: ${name}\nversion: 0.1.0\ndependencies:\n- {name: lib, version: "^1.0.0", repository: "${charts.url}"}\n`,
    [`charts/${name}/values.yaml`]: 'global: {subchart: true}\n',
    [`charts/${name}/templates/cm.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-${name}}\ndata: {chart: ${name}}\n`,
  });
  const release = (name: string, chart: string, ref = 'main') =>
    `apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  releaseName: ${name}\n  chart: {git: "${repo.fileUrl}", ref: ${ref}, path: charts/${chart}}\n`;
  const render = (sha: string, path: string) =>
    builder.render({ url: repo.fileUrl, sha, path, defaultNamespace: ns, revision: `main@sha1:${sha}` });
  const configMaps = (r: RenderResult) =>
    Object.fromEntries(r.objects.map((o) => [o.object.metadata.name, o.object['data']]));

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-builder-'));
    charts = await ChartRepository.start(id, [
      ['lib', '1.0.0'],
      ['lib', '1.5.0'],
    ]);
    repo = await TestRepository.create(join(root, 'git'), 'fleet');
    mirror = new GitMirror(join(root, 'mirrors'));
    const values = new KubeValuesSource(createKubeConfig((await sharedCluster()).kubeconfigPath));
    builder = new CommitRenderer(mirror, values, new HttpChartFetcher(join(root, 'charts')), {
      helm: 'helm',
      kustomize: 'kustomize',
      gitChartDir: join(root, 'git-charts'),
      gitChartRefetchMs: 0,
    });
  });
  after(async () => {
    await charts.close();
    await rm(root, { recursive: true, force: true });
  });

  it('renders a chart whose dependency is vendored as a .tgz in charts/, bytes intact, offline', async () => {
    const archive = await packageChart(join(root, 'src'), 'lib', '1.0.0', join(root, 'vendored'));
    await repo.write({
      ...appChart('vendored'),
      'charts/vendored/charts/lib-1.0.0.tgz': await readFile(archive),
      'apps/vendored/release.yaml': release('vendored', 'vendored'),
    });
    const sha = repo.commit('vendored chart');
    await mirror.fetch(repo.fileUrl);
    const result = await render(sha, 'apps/vendored');
    assert.deepEqual(configMaps(result), {
      'vendored-vendored': { chart: 'vendored' },
      'vendored-lib': { version: '1.0.0' },
    });
    assert.equal(charts.downloads('lib'), 0, 'a vendored dependency is never downloaded');
  });

  it('builds missing dependencies once per commit, however many Syncs render the chart', async () => {
    await repo.write({
      ...appChart('fetched'),
      'apps/one/release.yaml': release('one', 'fetched'),
      'apps/two/release.yaml': release('two', 'fetched'),
    });
    const sha = repo.commit('chart with dependencies from a Helm repository');
    await mirror.fetch(repo.fileUrl);
    const [one, two] = await Promise.all([render(sha, 'apps/one'), render(sha, 'apps/two')]);
    const again = await render(sha, 'apps/one');
    assert.deepEqual(configMaps(one), {
      'one-fetched': { chart: 'fetched' },
      'one-lib': { version: '1.5.0' },
    });
    assert.deepEqual(configMaps(two), {
      'two-fetched': { chart: 'fetched' },
      'two-lib': { version: '1.5.0' },
    });
    assert.deepEqual(configMaps(again), configMaps(one));
    assert.equal(charts.downloads('lib'), 1);
  });

  it('renders a Flux v1 chart.ref on another branch of the synced repository', async () => {
    repo.branch('chart-next');
    await repo.write({
      'charts/fetched/templates/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-fetched}\ndata: {chart: next}\n`,
    });
    repo.commit('next chart');
    repo.branch('main');
    await repo.write({ 'apps/next/release.yaml': release('next', 'fetched', 'chart-next') });
    const sha = repo.commit('release the next chart');
    await mirror.fetch(repo.fileUrl);
    const result = await render(sha, 'apps/next');
    assert.deepEqual(configMaps(result)['next-fetched'], { chart: 'next' });
    // The synced branch still renders from the synced commit.
    assert.deepEqual(configMaps(await render(sha, 'apps/one'))['one-fetched'], { chart: 'fetched' });
  });
});
