import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeConfig } from '@capstan/kube';
import { sharedCluster } from '@capstan/testing';
import { ChartDependencies } from './chart-dependencies.js';
import { HttpChartFetcher, type ChartFetchGuard } from './chart-fetcher.js';
import { RenderError } from './errors.js';
import { render, type RenderInput } from './render.js';
import { materialize } from './repository.js';
import { ChartRepository } from './testing/index.js';
import { GuardedUrlValues } from './url-values.js';
import type { Resolver } from './pinned-http.js';
import { KubeValuesSource } from './values-source.js';

// Chart dependencies from a real Helm HTTP repository on 127.0.0.1 (fetched by the reconciler's
// own guarded fetcher, never by helm), and values from URLs served by a real HTTP server; the
// real helm binary packages local dependencies and renders.
describe('chart dependencies and external values', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `deps-${id}`;
  let charts: ChartRepository;
  let values: KubeValuesSource;
  let web: Server;
  let webUrl = '';
  const dirs: string[] = [];

  const appChart = (repository: string, version: string, extra: Record<string, string> = {}) => ({
    'charts/app/Chart.yaml': `apiVersion: v2
name: app
version: 0.1.0
dependencies:
- name: lib
  version: "${version}"
  repository: "${repository}"
`,
    'charts/app/values.yaml': 'global: {subchart: true}\ngreeting: chart\n',
    'charts/app/templates/cm.yaml': `apiVersion: v1
kind: ConfigMap
metadata: {name: {{ .Release.Name }}-app}
data: {greeting: {{ .Values.greeting | quote }}}
`,
    ...extra,
  });
  const release = (chart: string, more = '') => `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: app, namespace: ${ns}}
spec:
  releaseName: app
  chart: {git: "https://git.example.com/fleet", ${chart}}
${more}`;

  async function checkout(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'capstan-deps-test-'));
    dirs.push(root);
    await materialize(
      Object.entries(files).map(([path, content]) => ({ path, content })),
      root,
    );
    return root;
  }
  const renderAt = (root: string, extra: Partial<RenderInput> = {}) => renderWith(root, extra);
  const renderWith = (root: string, extra: Partial<RenderInput> = {}, guard: ChartFetchGuard = {}) =>
    render({
      root,
      path: 'releases',
      defaultNamespace: ns,
      repositoryUrl: 'https://git.example.com/fleet',
      values,
      charts: new HttpChartFetcher(join(root, '.charts'), 10_000, {}, guard),
      helm: 'helm',
      kustomize: 'kustomize',
      ...extra,
    });
  const data = (result: Awaited<ReturnType<typeof render>>) =>
    Object.fromEntries(result.objects.map((o) => [o.object.metadata.name, o.object['data']]));

  before(async () => {
    values = new KubeValuesSource(createKubeConfig((await sharedCluster()).kubeconfigPath));
    charts = await ChartRepository.start(id, [
      ['lib', '1.0.0'],
      ['lib', '1.2.0'],
      ['lib', '2.0.0'],
    ]);
    web = createServer((req, res) => {
      if (req.url === '/values.yaml') return void res.writeHead(200).end('greeting: from a URL\n');
      if (req.url === '/list.yaml') return void res.writeHead(200).end('- not a mapping\n');
      if (req.url === '/big.yaml') return void res.writeHead(200).end(`greeting: ${'x'.repeat(4096)}\n`);
      res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  });
  after(async () => {
    await charts.close();
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('builds dependencies from a Helm HTTP repository once per checkout, however many renders use it', async () => {
    const root = await checkout({
      ...appChart(charts.url, '^1.0.0'),
      'releases/app.yaml': release('ref: main, path: charts/app'),
    });
    const dependencies = new ChartDependencies('helm');
    const before = charts.downloads('lib');
    const [first, second] = await Promise.all([
      renderAt(root, { dependencies }),
      renderAt(root, { dependencies }),
    ]);
    assert.deepEqual(data(first), { 'app-app': { greeting: 'chart' }, 'app-lib': { version: '1.2.0' } });
    assert.deepEqual(data(second), data(first));
    assert.equal(charts.downloads('lib') - before, 1, 'one download for two renders of one checkout');
    assert.deepEqual(await readdir(join(root, 'charts/app/charts')), ['lib-1.2.0.tgz']);
  });

  it('names the Chart.yaml and helm message when a dependency cannot be resolved', async () => {
    const root = await checkout({
      ...appChart(charts.url, '>=3.0.0'),
      'releases/app.yaml': release('ref: main, path: charts/app'),
    });
    await assert.rejects(renderAt(root), (e: unknown) => {
      assert.ok(e instanceof RenderError, String(e));
      assert.equal(e.file, 'charts/app/Chart.yaml');
      assert.match(
        e.message,
        /HelmRelease\/.*\/app: dependencies\[0\] lib: no version of chart lib matches >=3\.0\.0 in http:\/\/127\.0\.0\.1:\d+\/charts \(available: 2\.0\.0, 1\.2\.0, 1\.0\.0\)/,
      );
      return true;
    });
    const unreachable = await checkout({
      ...appChart('http://127.0.0.1:9/charts', '^1.0.0'),
      'releases/app.yaml': release('ref: main, path: charts/app'),
    });
    await assert.rejects(
      renderAt(unreachable),
      /charts\/app\/Chart.yaml: .*dependencies\[0\] lib: GET http:\/\/127.0.0.1:9\/charts\/index.yaml failed: .*ECONNREFUSED/,
    );
  });

  it('takes the version Chart.lock pins, and reuses its archives across commits', async () => {
    // The range allows 1.2.0; the lock says 1.0.0, as `helm dependency update` once wrote it.
    const lock = `dependencies:\n- name: lib\n  repository: ${charts.url}\n  version: 1.0.0\ndigest: sha256:0\ngenerated: "2026-12-05T00:00:00Z"\n`;
    const dependencies = new ChartDependencies('helm', {
      cacheDir: join(tmpdir(), `capstan-deps-cache-${id}`),
    });
    dirs.push(join(tmpdir(), `capstan-deps-cache-${id}`));
    const commit = () =>
      checkout({
        ...appChart(charts.url, '^1.0.0', { 'charts/app/Chart.lock': lock }),
        'releases/app.yaml': release('ref: main, path: charts/app'),
      });
    const before = charts.downloads('lib');
    const first = await renderAt(await commit(), { dependencies });
    const second = await renderAt(await commit(), { dependencies });
    assert.deepEqual(data(second), data(first));
    assert.deepEqual(data(first)['app-lib'], { version: '1.0.0' });
    assert.equal(charts.downloads('lib') - before, 1, 'the second commit copies the locked archives');
  });

  it('packages a file:// dependency inside the repository, offline', async () => {
    const root = await checkout({
      ...appChart('file://../lib', '0.3.0'),
      'charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.3.0\n',
      'charts/lib/templates/cm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-lib}\ndata: {version: {{ .Chart.Version | quote }}}\n',
      'releases/app.yaml': release('ref: main, path: charts/app'),
    });
    const result = await renderAt(root);
    assert.deepEqual(data(result)['app-lib'], { version: '0.3.0' });
    assert.deepEqual(await readdir(join(root, 'charts/app/charts')), ['lib-0.3.0.tgz']);
  });

  it('refuses OCI dependencies, which helm would download unchecked, unless vendored', async () => {
    const root = await checkout({
      ...appChart('oci://registry.example.com/charts', '1.0.0'),
      'releases/app.yaml': release('ref: main, path: charts/app'),
    });
    await assert.rejects(
      renderAt(root),
      /charts\/app\/Chart.yaml: .*dependencies\[0\] lib: oci:\/\/registry.example.com\/charts: OCI dependencies are not downloaded by Capstan; vendor the chart into charts\//,
    );
  });

  it('fetches a dependency through the checked address only, and bounds what the repository sends', async () => {
    let asked = 0;
    // `.test` names exist in no DNS: the repository is reachable only through the checked answer.
    const rebinding: Resolver = () => {
      asked++;
      return Promise.resolve([{ address: asked === 1 ? '127.0.0.1' : '169.254.169.254', family: 4 }]);
    };
    const named = charts.url.replace('127.0.0.1', 'charts.capstan.test');
    const files = () =>
      checkout({ ...appChart(named, '^1.0.0'), 'releases/app.yaml': release('ref: main, path: charts/app') });
    const first = await renderWith(await files(), {}, { checkAddresses: true, resolver: rebinding });
    assert.deepEqual(data(first)['app-lib'], { version: '1.2.0' });
    const before = charts.requests.length;
    await assert.rejects(
      renderWith(await files(), {}, { checkAddresses: true, resolver: rebinding }),
      (e: unknown) => {
        assert.ok(e instanceof RenderError, String(e));
        assert.equal(e.file, 'charts/app/Chart.yaml');
        assert.match(
          e.message,
          /dependencies\[0\] lib: http:\/\/charts\.capstan\.test:\d+\/charts\/index\.yaml: charts\.capstan\.test resolves to 169\.254\.169\.254, a link-local/,
        );
        return true;
      },
    );
    assert.equal(charts.requests.length, before, 'helm never asked anything itself');

    await assert.rejects(
      renderWith(
        await files(),
        {},
        { maxBytes: 200, resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]) },
      ),
      (e: unknown) => {
        assert.ok(e instanceof RenderError, String(e));
        assert.equal(e.file, 'charts/app/Chart.yaml');
        assert.match(
          e.message,
          /HelmRelease\/.*\/app: dependencies\[0\] lib: http:\/\/charts\.capstan\.test:\d+\/charts\/index\.yaml: the answer is larger than 200 bytes \(limit maxChartBytes\)/,
        );
        return true;
      },
    );
  });

  it('names the Chart.yaml when its dependencies are malformed', async () => {
    const bad = async (dependencies: string) =>
      renderAt(
        await checkout({
          ...appChart(charts.url, '^1.0.0'),
          'charts/app/Chart.yaml': `apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies: ${dependencies}\n`,
          'releases/app.yaml': release('ref: main, path: charts/app'),
        }),
      );
    await assert.rejects(
      bad('{lib: x}'),
      /charts\/app\/Chart.yaml: HelmRelease\/.*\/app: dependencies must be a list/,
    );
    await assert.rejects(
      bad('[{version: 1.0.0}]'),
      /charts\/app\/Chart.yaml: .*dependencies\[0\] has no name/,
    );
    await assert.rejects(bad('[oops'), /charts\/app\/Chart.yaml: .*invalid YAML/);
  });

  it('leaves charts/ alone with Flux v1 skipDepUpdate, so helm names what is missing', async () => {
    const root = await checkout({
      ...appChart(charts.url, '^1.0.0'),
      'releases/app.yaml': release('ref: main, path: charts/app, skipDepUpdate: true'),
    });
    await assert.rejects(
      renderAt(root),
      /releases\/app.yaml.*helm template failed: .*missing in charts\/ directory: lib/,
    );
  });

  it('layers valuesFrom externalSourceRef values; a failure names the HelmRelease and field unless optional', async () => {
    // The test server is on loopback, which the default rule refuses: this rule lets it through.
    const fromLoopback = (maxBytes?: number) => ({
      urlValues: new GuardedUrlValues({
        policy: { allowedHosts: ['127.0.0.1'] },
        addressRule: () => undefined,
        ...(maxBytes === undefined ? {} : { maxBytes }),
      }),
    });
    const renderAt = (root: string, extra: Partial<RenderInput> = {}) =>
      renderWith(root, { ...fromLoopback(), ...extra });
    const files = (ref: string, extra = '') => ({
      ...appChart(charts.url, '^1.0.0'),
      'releases/app.yaml': release(
        'ref: main, path: charts/app',
        `  valuesFrom:\n  - externalSourceRef: {url: "${webUrl}${ref}"${extra}}\n`,
      ),
    });
    await assert.rejects(
      renderWith(await checkout(files('/values.yaml'))),
      /spec.valuesFrom\[0\].externalSourceRef .*: fetching values by URL is off/,
    );
    const result = await renderAt(await checkout(files('/values.yaml')));
    assert.deepEqual(data(result)['app-app'], { greeting: 'from a URL' });

    const missing = await checkout(files('/missing.yaml'));
    await assert.rejects(renderAt(missing), (e: unknown) => {
      assert.ok(e instanceof RenderError);
      assert.equal(e.file, 'releases/app.yaml');
      assert.match(
        e.message,
        /HelmRelease\/.*\/app: spec.valuesFrom\[0\].externalSourceRef http:\/\/127.0.0.1:\d+\/missing.yaml: GET returned 404/,
      );
      return true;
    });
    const optional = await renderAt(await checkout(files('/missing.yaml', ', optional: true')));
    assert.deepEqual(data(optional)['app-app'], { greeting: 'chart' });

    await assert.rejects(
      renderAt(await checkout(files('/big.yaml')), fromLoopback(1024)),
      /spec.valuesFrom\[0\].externalSourceRef .*big.yaml: values file is larger than the 1024 bytes allowed/,
    );
    await assert.rejects(
      renderAt(await checkout(files('/list.yaml'))),
      /spec.valuesFrom\[0\]: externalSourceRef .*list.yaml is not a YAML mapping/,
    );
    const local = await checkout({
      ...appChart(charts.url, '^1.0.0'),
      'releases/app.yaml': release(
        'ref: main, path: charts/app',
        '  valuesFrom:\n  - externalSourceRef: {url: "file:///etc/passwd"}\n',
      ),
    });
    await assert.rejects(
      renderAt(local),
      /releases\/app.yaml.*spec.valuesFrom\[0\].externalSourceRef.url must be an http\(s\) URL/,
    );
  });
});
