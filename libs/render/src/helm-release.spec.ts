import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '@capstan/gitops-core';
import { RenderError } from './errors.js';
import { normalizeGitUrl, readReleaseSpec } from './helm-release.js';
import { mergeValues } from './values.js';

const at = (object: KubeObject) => ({ object, origin: { file: 'releases/web.yaml', document: 1 } });
const fluxV1 = (spec: Record<string, unknown>, namespace?: string): KubeObject => ({
  apiVersion: 'helm.fluxcd.io/v1',
  kind: 'HelmRelease',
  metadata: { name: 'web', ...(namespace ? { namespace } : {}) },
  spec,
});

describe('readReleaseSpec', () => {
  it('names Flux v1 releases like the Helm Operator did', () => {
    const chart = { repository: 'https://charts.example.com/', name: 'web', version: '1.2.3' };
    assert.equal(readReleaseSpec(at(fluxV1({ chart }, 'apps')), 'default').releaseName, 'apps-web');
    assert.equal(readReleaseSpec(at(fluxV1({ chart })), 'team').releaseName, 'team-web');
    const moved = readReleaseSpec(at(fluxV1({ chart, targetNamespace: 'prod' }, 'apps')), 'default');
    assert.equal(moved.releaseName, 'apps-prod-web');
    assert.equal(moved.targetNamespace, 'prod');
    assert.equal(
      readReleaseSpec(at(fluxV1({ chart, releaseName: 'mine' }, 'apps')), 'default').releaseName,
      'mine',
    );
  });

  it('reads Flux v1 git charts and valuesFrom, defaulting key and namespace', () => {
    const spec = readReleaseSpec(
      at(
        fluxV1(
          {
            chart: { git: 'git@github.com:acme/fleet.git', ref: 'master', path: 'charts/web' },
            valuesFrom: [
              { configMapKeyRef: { name: 'web-values' } },
              { secretKeyRef: { name: 'web-secret', namespace: 'vault', key: 'extra.yaml', optional: true } },
              { chartFileRef: { path: 'values-prod.yaml' } },
            ],
            values: { replicas: 2 },
          },
          'apps',
        ),
      ),
      'default',
    );
    assert.deepEqual(spec.chart, {
      kind: 'git',
      url: 'git@github.com:acme/fleet.git',
      ref: 'master',
      path: 'charts/web',
    });
    assert.deepEqual(spec.valuesFrom, [
      { kind: 'ConfigMap', namespace: 'apps', name: 'web-values', key: 'values.yaml', optional: false },
      { kind: 'Secret', namespace: 'vault', name: 'web-secret', key: 'extra.yaml', optional: true },
      { kind: 'ChartFile', path: 'values-prod.yaml', optional: false },
    ]);
    assert.deepEqual(spec.values, { replicas: 2 });
    assert.equal(spec.includeCrds, true);
  });

  it('reads Flux v1 chart.git of another repository, skipDepUpdate and externalSourceRef', () => {
    const spec = readReleaseSpec(
      at(
        fluxV1(
          {
            chart: { git: 'https://github.com/other/repo', path: 'c', skipDepUpdate: true },
            valuesFrom: [{ externalSourceRef: { url: 'https://example.com/v.yaml', optional: true } }],
          },
          'apps',
        ),
      ),
      'default',
    );
    assert.deepEqual(spec.chart, {
      kind: 'git',
      url: 'https://github.com/other/repo',
      path: 'c',
      skipDepUpdate: true,
    });
    assert.deepEqual(spec.valuesFrom, [{ kind: 'URL', url: 'https://example.com/v.yaml', optional: true }]);
    for (const [chart, valuesFrom, pattern] of [
      [{ git: 42, path: 'c' }, [], /spec.chart.git must be a URL/],
      [{ git: 'https://h/r' }, [], /missing spec.chart.path/],
      [
        { git: 'https://h/r', path: 'c' },
        [{ externalSourceRef: {} }],
        /missing spec.valuesFrom\[0\].externalSourceRef.url/,
      ],
      [
        { git: 'https://h/r', path: 'c' },
        [{ externalSourceRef: { url: '/etc/passwd' } }],
        /must be an http\(s\) URL/,
      ],
    ] as const)
      assert.throws(
        () => readReleaseSpec(at(fluxV1({ chart, valuesFrom }, 'apps')), 'default'),
        (e: unknown) =>
          e instanceof RenderError &&
          e.file === 'releases/web.yaml' &&
          e.document === 1 &&
          pattern.test(e.message),
      );
  });

  it('reads Capstan HelmReleases with Flux v2 release naming and hook switches', () => {
    const spec = readReleaseSpec(
      at({
        apiVersion: 'capstan.dev/v1alpha1',
        kind: 'HelmRelease',
        metadata: { name: 'web', namespace: 'apps' },
        spec: {
          chart: { repository: { url: 'https://charts.example.com', name: 'web', version: '^1.2' } },
          valuesFrom: [{ kind: 'Secret', name: 's', optional: true }],
          upgrade: { disableHooks: true },
        },
      }),
      'default',
    );
    assert.equal(spec.releaseName, 'web');
    assert.deepEqual(spec.chart, {
      kind: 'repository',
      url: 'https://charts.example.com',
      name: 'web',
      version: '^1.2',
    });
    assert.deepEqual(spec.valuesFrom, [
      { kind: 'Secret', namespace: 'apps', name: 's', key: 'values.yaml', optional: true },
    ]);
    assert.deepEqual(spec.hooks, { disableInstallHooks: false, disableUpgradeHooks: true });
    assert.throws(
      () =>
        readReleaseSpec(
          at({
            apiVersion: 'capstan.dev/v1alpha1',
            kind: 'HelmRelease',
            metadata: { name: 'x' },
            spec: { chart: {} },
          }),
          'default',
        ),
      /HelmRelease\/x: spec.chart needs git or repository/,
    );
  });
});

describe('helpers', () => {
  it('treats scp, ssh and https spellings of one repository as equal', () => {
    const a = normalizeGitUrl('git@github.com:acme/fleet.git');
    assert.equal(normalizeGitUrl('ssh://git@github.com/acme/fleet'), a);
    assert.equal(normalizeGitUrl('https://github.com/acme/fleet/'), a);
    assert.notEqual(normalizeGitUrl('https://github.com/acme/other'), a);
    assert.equal(normalizeGitUrl('file:///tmp/x/origin.git'), normalizeGitUrl('/tmp/x/origin'));
  });

  it('merges values like Helm: mappings deep, lists replaced', () => {
    assert.deepEqual(mergeValues({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3], e: true }, d: null }), {
      a: { b: 1, c: [3], e: true },
      d: null,
    });
  });
});
