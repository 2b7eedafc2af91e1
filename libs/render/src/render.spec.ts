import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { ObjectApi, createKubeConfig } from '@capstan/kube';
import { sharedCluster } from '@capstan/testing';
import { HttpChartFetcher } from './chart-fetcher.js';
import { RenderError } from './errors.js';
import { render, type RenderInput } from './render.js';
import { materialize } from './repository.js';
import { protectedIds } from './annotations.js';
import { KubeValuesSource } from './values-source.js';
import { ChartRepository } from './testing/index.js';

// Every renderer against the real helm and kustomize binaries (PATH from scripts/lib/env.sh) and
// valuesFrom against the real kube-apiserver.
const chartYaml = (name: string, version = '0.1.0') =>
  `apiVersion: v2\nname: ${name}\nversion: ${version}\ntype: application\n`;
const webChart = {
  'Chart.yaml': chartYaml('web'),
  'values.yaml': 'replicas: 1\ngreeting: default\nextra: {a: chart}\n',
  'values-prod.yaml': 'greeting: from-chart-file\n',
  'templates/configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  greeting: {{ .Values.greeting | quote }}
  replicas: {{ .Values.replicas | quote }}
  extra: {{ toJson .Values.extra | quote }}
`,
  'templates/role.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: {{ .Release.Name }}-reader}
rules: []
`,
  'templates/hooks.yaml': `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations: {"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "2"}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: busybox}]}}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-prepare
  annotations: {"helm.sh/hook": "pre-install", "helm.sh/hook-weight": "-1"}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: p, image: busybox}]}}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-notify
  annotations: {"helm.sh/hook": "post-install", "helm.sh/hook-delete-policy": "hook-succeeded"}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: n, image: busybox}]}}}
`,
};
const prefixed = (prefix: string, files: Record<string, string>) =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}/${k}`, v]));

describe('render', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `render-${id}`;
  let core: CoreV1Api;
  let values: KubeValuesSource;
  let api: ObjectApi;
  const dirs: string[] = [];
  const repoUrl = 'https://github.com/acme/fleet';

  async function renderRepo(files: Record<string, string>, path: string, extra: Partial<RenderInput> = {}) {
    const root = await mkdtemp(join(tmpdir(), 'capstan-render-test-'));
    dirs.push(root);
    await materialize(
      Object.entries(files).map(([p, content]) => ({ path: p, content })),
      root,
    );
    return render({
      root,
      path,
      defaultNamespace: ns,
      repositoryUrl: repoUrl,
      values,
      charts: new HttpChartFetcher(join(root, '..', `charts-${id}`)),
      helm: 'helm',
      kustomize: 'kustomize',
      isNamespaced: (v, k) => api.isNamespaced(v, k),
      ...extra,
    });
  }
  const renderError = (file: string, pattern: RegExp) => (e: unknown) => {
    assert.ok(e instanceof RenderError, `expected RenderError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.match(e.message, pattern);
    return true;
  };

  before(async () => {
    const kc = createKubeConfig((await sharedCluster()).kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    api = ObjectApi.fromKubeConfig(kc);
    values = new KubeValuesSource(kc);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: { name: 'web-values' },
        data: { 'values.yaml': 'greeting: from-configmap\nreplicas: 3\nextra: {b: configmap}\n' },
      },
    });
  });
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    await core.deleteNamespace({ name: ns });
  });

  it('reads a plain folder recursively in path order, skipping chart folders and other files', async () => {
    const result = await renderRepo(
      {
        'apps/b.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n`,
        'apps/a/z.yml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: az}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: az2}\n`,
        'apps/README.md': '# not yaml',
        'apps/chart/Chart.yaml': chartYaml('inner'),
        'apps/chart/templates/x.yaml': '{{ broken',
        'other/c.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n`,
      },
      './apps',
    );
    assert.deepEqual(
      result.objects.map((o) => [o.object.metadata.name, o.origin.file, o.origin.document]),
      [
        ['az', 'apps/a/z.yml', 0],
        ['az2', 'apps/a/z.yml', 1],
        ['b', 'apps/b.yaml', 0],
      ],
    );
    assert.deepEqual(result.hooks, { pre: [], post: [] });
  });

  it('builds a kustomize overlay over a base with kustomize v5', async () => {
    const result = await renderRepo(
      {
        'base/kustomization.yaml': 'resources: [cm.yaml]\n',
        'base/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: base}\n`,
        'overlays/prod/kustomization.yaml': `resources: [../../base]\nnamePrefix: prod-\nnamespace: ${ns}\npatches:\n- path: level.yaml\n`,
        'overlays/prod/level.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: prod}\n`,
      },
      'overlays/prod',
    );
    assert.equal(result.objects.length, 1);
    const cm = result.objects[0];
    assert.equal(cm?.object.metadata.name, 'prod-settings');
    assert.equal(cm.object.metadata.namespace, ns);
    assert.deepEqual(cm.object['data'], { level: 'prod' });
    assert.equal(cm.origin.file, 'overlays/prod/kustomization.yaml');
  });

  it('renders a Flux v1 HelmRelease from a chart in the same repo with valuesFrom a real ConfigMap', async () => {
    const result = await renderRepo(
      {
        ...prefixed('charts/web', webChart),
        'releases/web.yaml': `---
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: web, namespace: ${ns}}
spec:
  chart: {git: "git@github.com:acme/fleet.git", ref: master, path: charts/web}
  valuesFrom:
  - configMapKeyRef: {name: web-values}
  - chartFileRef: {path: values-prod.yaml}
  - secretKeyRef: {name: absent, optional: true}
  values: {replicas: 5}
`,
      },
      'releases',
    );
    const names = result.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);
    // Flux v1 release name: <namespace>-<name>.
    assert.deepEqual(names.sort(), [`ClusterRole/${ns}-web-reader`, `ConfigMap/${ns}-web-config`]);
    const cm = result.objects.find((o) => o.object.kind === 'ConfigMap');
    // chart values < ConfigMap < chart file < inline values; mappings merge.
    assert.deepEqual(cm?.object['data'], {
      greeting: 'from-chart-file',
      replicas: '5',
      extra: '{"a":"chart","b":"configmap"}',
    });
    assert.equal(cm.object.metadata.namespace, ns);
    assert.deepEqual(cm.origin, {
      file: 'releases/web.yaml',
      document: 0,
      template: 'web/templates/configmap.yaml',
    });
    const role = result.objects.find((o) => o.object.kind === 'ClusterRole');
    assert.equal(role?.object.metadata.namespace, undefined);
    assert.deepEqual(
      result.hooks.pre.map((h) => [h.object.metadata.name, h.hook.weight]),
      [
        [`${ns}-web-prepare`, -1],
        [`${ns}-web-migrate`, 2],
      ],
    );
    assert.deepEqual(
      result.hooks.post.map((h) => [h.object.metadata.name, h.hook.deletePolicies]),
      [[`${ns}-web-notify`, ['hook-succeeded']]],
    );
    assert.equal(result.hooks.pre[0]?.origin.template, 'web/templates/hooks.yaml');
  });

  it('renders HelmReleases that kustomize outputs, with Capstan HelmRelease semantics', async () => {
    const result = await renderRepo(
      {
        ...prefixed('charts/web', webChart),
        'apps/kustomization.yaml': `namespace: ${ns}\nresources: [release.yaml]\n`,
        'apps/release.yaml': `apiVersion: capstan.dev/v1alpha1
kind: HelmRelease
metadata: {name: site}
spec:
  chart: {git: {path: charts/web}}
  valuesFrom: [{kind: ConfigMap, name: web-values}]
  values: {greeting: inline}
  install: {disableHooks: true}
`,
      },
      'apps',
    );
    const cm = result.objects.find((o) => o.object.kind === 'ConfigMap');
    assert.equal(cm?.object.metadata.name, 'site-config');
    assert.equal(cm.object['data'] && (cm.object['data'] as Record<string, string>)['greeting'], 'inline');
    assert.equal(cm.origin.file, 'apps/kustomization.yaml');
    // Install hooks disabled: only the upgrade side of the migrate Job remains.
    assert.deepEqual(
      result.hooks.pre.map((h) => [h.object.metadata.name, h.hook.events]),
      [['site-migrate', ['pre-upgrade']]],
    );
    assert.deepEqual(result.hooks.post, []);
  });

  it('drops fluxcd.io/ignore and capstan.dev/reconcile=disabled objects and flags sync_only ones', async () => {
    const cm = (name: string, annotations: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, annotations: {${annotations}}}\n---\n`;
    const result = await renderRepo(
      {
        'apps/all.yaml':
          cm('kept', '') +
          cm('ignored', '"fluxcd.io/ignore": "true"') +
          cm('sync-only', '"fluxcd.io/ignore": sync_only') +
          cm('disabled', '"capstan.dev/reconcile": disabled') +
          `apiVersion: v1\nkind: Namespace\nmetadata: {name: ignored-ns, annotations: {"fluxcd.io/ignore": "true"}}\n`,
      },
      'apps',
    );
    assert.deepEqual(
      result.objects.map((o) => o.object.metadata.name),
      ['kept', 'sync-only'],
    );
    assert.deepEqual(
      result.skipped.map((o) => o.object.metadata.name),
      ['ignored', 'disabled', 'ignored-ns'],
    );
    assert.deepEqual([...result.neverPrune], [`${ns}_sync-only__ConfigMap`]);
    assert.deepEqual([...protectedIds(result)].sort(), [
      `_ignored-ns__Namespace`,
      `${ns}_disabled__ConfigMap`,
      `${ns}_ignored__ConfigMap`,
      `${ns}_sync-only__ConfigMap`,
    ]);
  });

  it('picks the highest chart version in a semver range from a Helm HTTP repository', async () => {
    const repo = await ChartRepository.start(id, [
      ['web', '1.0.0'],
      ['web', '1.2.0'],
      ['web', '2.0.0'],
    ]);
    try {
      const release = (version: string) => ({
        'apps/release.yaml': `apiVersion: capstan.dev/v1alpha1
kind: HelmRelease
metadata: {name: web, namespace: ${ns}}
spec:
  chart: {repository: {url: "${repo.url}", name: web, version: "${version}"}}
`,
      });
      const result = await renderRepo(release('^1.0.0'), 'apps');
      const cm = result.objects.find((o) => o.object.kind === 'ConfigMap');
      assert.equal((cm?.object['data'] as Record<string, string>)['version'], '1.2.0');
      await assert.rejects(
        renderRepo(release('>=3'), 'apps'),
        renderError(
          'apps/release.yaml',
          /no version of chart web matches >=3.*available: 2.0.0, 1.2.0, 1.0.0/,
        ),
      );
    } finally {
      await repo.close();
    }
  });

  describe('bad input fails the whole build naming the file', () => {
    const release = (spec: string) => `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: web, namespace: ${ns}}
spec:
${spec}`;

    it('invalid YAML', async () => {
      await assert.rejects(
        renderRepo(
          {
            'apps/ok.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n',
            'apps/bad.yaml': 'a: [\n',
          },
          'apps',
        ),
        renderError('apps/bad.yaml', /invalid YAML/),
      );
    });

    it('a kustomize error', async () => {
      await assert.rejects(
        renderRepo({ 'apps/kustomization.yaml': 'resources: [missing.yaml]\n' }, 'apps'),
        renderError('apps/kustomization.yaml', /resources\[0\] missing.yaml: not found in the repository/),
      );
      await assert.rejects(
        renderRepo(
          { 'apps/kustomization.yaml': 'resources: [cm.yaml]\n', 'apps/cm.yaml': 'kind: ConfigMap\n' },
          'apps',
        ),
        renderError('apps/kustomization.yaml', /kustomize build failed: .*metadata.name/),
      );
    });

    it('a chart that fails to render', async () => {
      await assert.rejects(
        renderRepo(
          {
            'charts/bad/Chart.yaml': chartYaml('bad'),
            'charts/bad/templates/cm.yaml': '{{ required "image.tag is required" .Values.image }}\n',
            'apps/release.yaml': release(
              '  chart: {git: "https://github.com/acme/fleet.git", path: charts/bad}\n',
            ),
          },
          'apps',
        ),
        renderError(
          'apps/release.yaml',
          /HelmRelease\/.*\/web: helm template failed: .*image.tag is required/,
        ),
      );
    });

    it('a missing values source, unless optional', async () => {
      const files = (optional: boolean) => ({
        ...prefixed('charts/web', webChart),
        'apps/release.yaml': release(
          `  chart: {git: "${repoUrl}", path: charts/web}\n  valuesFrom: [{configMapKeyRef: {name: nope, optional: ${optional}}}]\n`,
        ),
      });
      await assert.rejects(
        renderRepo(files(false), 'apps'),
        renderError('apps/release.yaml', new RegExp(`ConfigMap ${ns}/nope key values.yaml not found`)),
      );
      assert.ok((await renderRepo(files(true), 'apps')).objects.length > 0);
    });

    it('paths that escape the repository', async () => {
      await assert.rejects(renderRepo({ 'a.yaml': '' }, '../outside'), renderError('../outside', /escapes/));
      await assert.rejects(
        renderRepo(
          { 'apps/release.yaml': release(`  chart: {git: "${repoUrl}", path: ../../etc}\n`) },
          'apps',
        ),
        renderError('apps/release.yaml', /path ..\/..\/etc escapes the repository/),
      );
      await assert.rejects(
        renderRepo({ 'apps/kustomization.yaml': 'resources: [../../../../etc/hosts]\n' }, 'apps'),
        renderError('apps/kustomization.yaml', /escapes the repository/),
      );
      await assert.rejects(renderRepo({ 'a.yaml': '' }, 'missing'), renderError('missing', /path not found/));
    });
  });
});
