import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitMirror, type GitCredentials } from '@capstan/git';
import { HttpGitServer, TestRepository } from '@capstan/git/testing';
import { createKubeConfig } from '@capstan/kube';
import { sharedCluster } from '@capstan/testing';
import { HttpChartFetcher } from './chart-fetcher.js';
import { RenderError } from './errors.js';
import { GitChartCheckouts, chartUrlProblem, sameCredentialScope } from './git-charts.js';
import { render } from './render.js';
import { materialize } from './repository.js';
import { KubeValuesSource } from './values-source.js';

// Flux v1 `chart.git`/`chart.ref`/`chart.path` against real repositories: the synced one behind an
// authenticated smart-HTTP server (git-http-backend), another behind an open one.
describe('Flux v1 charts from other refs and repositories', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `gitcharts-${id}`;
  const auth = { username: 'ada', password: `s3cret-${id}` };
  const credentials: GitCredentials = { kind: 'basic', ...auth };
  let root: string;
  let values: KubeValuesSource;
  let privateServer: HttpGitServer;
  let openServer: HttpGitServer;
  let fleet: TestRepository;
  let library: TestRepository;
  let fleetUrl = '';
  let mirror: GitMirror;
  let checkouts: GitChartCheckouts;

  const chart = (label: string) => ({
    'charts/web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\n',
    'charts/web/templates/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\ndata: {from: ${label}}\n`,
  });
  const release = (chartSpec: string) =>
    `apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {name: web, namespace: ${ns}}\nspec:\n  releaseName: web\n  chart: {${chartSpec}}\n`;

  /** Commits `releases/web.yaml` on main and renders it as the reconciler would. */
  async function renderRelease(chartSpec: string) {
    fleet.branch('main');
    await fleet.write({ 'releases/web.yaml': release(chartSpec) });
    const sha = fleet.commit('release');
    await mirror.fetch(fleetUrl, { credentials });
    const dir = await mkdtemp(join(root, 'checkout-'));
    await materialize(await mirror.readTree(fleetUrl, sha, '', () => true), dir);
    const result = await render({
      root: dir,
      path: 'releases',
      defaultNamespace: ns,
      repositoryUrl: fleetUrl,
      repositoryRef: 'main',
      repositorySha: sha,
      gitCharts: checkouts.forRepository(fleetUrl, credentials),
      values,
      charts: new HttpChartFetcher(join(root, 'chart-cache')),
      helm: 'helm',
      kustomize: 'kustomize',
    });
    return result.objects.map((o) => (o.object['data'] as Record<string, string>)['from']);
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-gitcharts-'));
    values = new KubeValuesSource(createKubeConfig((await sharedCluster()).kubeconfigPath));
    fleet = await TestRepository.create(join(root, 'private'), 'fleet');
    await fleet.write(chart('main'));
    fleet.commit('chart on main');
    fleet.branch('charts');
    await fleet.write(chart('charts-branch'));
    fleet.commit('chart on a branch');
    fleet.branch('main');
    library = await TestRepository.create(join(root, 'open'), 'library');
    await library.write(chart('library-master'));
    library.branch('master');
    library.commit('library chart');
    library.tag('v1.0.0');
    await library.write(chart('library-master-later'));
    library.commit('later');
    privateServer = await HttpGitServer.start(join(root, 'private'), auth);
    openServer = await HttpGitServer.start(join(root, 'open'));
    fleetUrl = privateServer.url('fleet.git');
    mirror = new GitMirror(join(root, 'mirrors'));
    checkouts = new GitChartCheckouts(mirror, join(root, 'chart-checkouts'), { refetchAfterMs: 0 });
  });
  after(async () => {
    await privateServer.stop();
    await openServer.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('renders the synced commit when chart.ref names the synced branch', async () => {
    assert.deepEqual(await renderRelease(`git: "${fleetUrl}", ref: main, path: charts/web`), ['main']);
  });

  it('fetches another branch of the same repository with the GitRepository credentials', async () => {
    assert.deepEqual(await renderRelease(`git: "${fleetUrl}", ref: charts, path: charts/web`), [
      'charts-branch',
    ]);
  });

  it('fetches another repository at master by default, at a tag, and at a commit, without the credentials', async () => {
    const url = openServer.url('library.git');
    const seen = openServer.seenAuthorization.length;
    assert.deepEqual(await renderRelease(`git: "${url}", path: charts/web`), ['library-master-later']);
    assert.deepEqual(await renderRelease(`git: "${url}", ref: v1.0.0, path: charts/web`), ['library-master']);
    const tagged = await mirror.resolveRevision(url, 'v1.0.0');
    assert.deepEqual(await renderRelease(`git: "${url}", ref: "${tagged}", path: charts/web`), [
      'library-master',
    ]);
    assert.ok(openServer.seenAuthorization.length > seen);
    assert.deepEqual(
      openServer.seenAuthorization.filter((a) => a !== undefined),
      [],
      'the GitRepository credentials never go to another repository',
    );
  });

  it('names the HelmRelease, URL and ref when the ref or chart does not exist', async () => {
    const url = openServer.url('library.git');
    const failure = (pattern: RegExp) => (e: unknown) => {
      assert.ok(e instanceof RenderError, String(e));
      assert.equal(e.file, 'releases/web.yaml');
      assert.match(e.message, pattern);
      return true;
    };
    await assert.rejects(
      renderRelease(`git: "${url}", ref: nope, path: charts/web`),
      failure(
        /HelmRelease\/.*\/web: spec.chart.git http:\/\/127.0.0.1:\d+\/library.git@nope: .*ref nope not found/,
      ),
    );
    await assert.rejects(
      renderRelease(`git: "${fleetUrl}", path: charts/web`),
      failure(/@master: .*ref master not found.*spec.chart.ref defaults to master, as in Flux v1/),
    );
    await assert.rejects(
      renderRelease(`git: "${url}", ref: master, path: charts/missing`),
      failure(
        /no chart at charts\/missing of .*library.git@master \([0-9a-f]{12}\) \(Chart.yaml not found\)/,
      ),
    );
  });

  it('does not lend credentials to another repository on the same server, and says which HelmRelease failed', async () => {
    const other = await TestRepository.create(join(root, 'private'), 'other');
    await other.write(chart('other'));
    other.branch('master');
    other.commit('other chart');
    await assert.rejects(
      renderRelease(`git: "${privateServer.url('other.git')}", path: charts/web`),
      /releases\/web.yaml: HelmRelease\/.*\/web: spec.chart.git .*other.git@master: .*git clone/,
    );
  });

  it('refuses transport helpers, and local repositories unless the synced one is local', async () => {
    await assert.rejects(
      renderRelease(`git: "file://${root}/open/library.git", path: charts/web`),
      (e: unknown) =>
        e instanceof RenderError &&
        e.file === 'releases/web.yaml' &&
        /spec.chart.git file:\/\/.*library.git@master: a repository on the reconciler's disk is only read when the synced repository is local too/.test(
          e.message,
        ),
    );
    assert.match(chartUrlProblem('ext::sh -c touch% /tmp/x', fleetUrl) ?? '', /transport helpers/);
    assert.match(chartUrlProblem('--upload-pack=touch /tmp/x', fleetUrl) ?? '', /not a valid/);
    assert.match(chartUrlProblem('/srv/git/other.git', fleetUrl) ?? '', /reconciler's disk/);
    assert.equal(chartUrlProblem('file:///srv/git/other.git', 'file:///srv/git/fleet.git'), undefined);
    assert.equal(chartUrlProblem('git@github.com:acme/charts.git', fleetUrl), undefined);
  });

  it('scopes credentials by repository and protocol', () => {
    assert.ok(sameCredentialScope('https://h/org/repo.git', 'https://h/org/repo'));
    assert.ok(!sameCredentialScope('http://h/org/repo', 'https://h/org/repo'));
    assert.ok(sameCredentialScope('git@h:org/repo.git', 'ssh://git@h/org/repo'));
    assert.ok(!sameCredentialScope('https://h/org/other', 'https://h/org/repo'));
  });
});
