import type { SourcedObject } from '@capstan/gitops-core';
import { RenderError } from './errors.js';
import type { HookOptions } from './hooks.js';
import { isMapping, type Values } from './values.js';

export const CAPSTAN_HELMRELEASE = 'capstan.dev/v1alpha1';
export const FLUX_V1_HELMRELEASE = 'helm.fluxcd.io/v1';

export type ChartSource =
  /**
   * A chart folder, relative to a repository root: the synced repository at the synced commit, or
   * (Flux v1 `chart.git`/`chart.ref`) `url` at `ref`, which may be another repository or branch.
   */
  | { kind: 'git'; path: string; url?: string; ref?: string; skipDepUpdate?: boolean }
  /** A chart from a Helm HTTP repository; `version` is a semver range. */
  | { kind: 'repository'; url: string; name: string; version: string };

export type ValuesRef =
  | { kind: 'ConfigMap' | 'Secret'; namespace: string; name: string; key: string; optional: boolean }
  /** A values file shipped inside the chart (Flux v1 chartFileRef), relative to the chart folder. */
  | { kind: 'ChartFile'; path: string; optional: boolean }
  /** A values file at an HTTP(S) URL (Flux v1 externalSourceRef). */
  | { kind: 'URL'; url: string; optional: boolean };

/**
 * How a release is deployed beyond rendering (Helm Operator's `helm.fluxcd.io/v1` fields): what
 * the reconciler waits for, tests and rolls back, per release.
 */
export interface ReleaseOptions {
  /** `spec.wait`: the release is Deployed only once its objects are healthy. */
  wait: boolean;
  /** `spec.timeout` (seconds, default 300): for the wait, its hooks and its tests. */
  timeoutMs: number;
  /** `spec.forceUpgrade`: an object whose immutable field changed is deleted and created again. */
  forceUpgrade: boolean;
  /** `spec.test.enable`: the chart's `helm.sh/hook: test` Pods run after each install or upgrade. */
  test?: { timeoutMs: number; ignoreFailures: boolean; cleanup: boolean };
  /** `spec.rollback.enable`: a failed upgrade goes back to the release as last deployed. */
  rollback?: { retry: boolean; maxRetries: number; wait: boolean; timeoutMs: number; recreate: boolean };
  /** Fields read but not honoured, each with why (said in the release's status). */
  notHonoured: string[];
}

/** Helm Operator's defaults: no wait, 300 s, no tests, no rollback. */
export const DEFAULT_RELEASE_OPTIONS: ReleaseOptions = {
  wait: false,
  timeoutMs: 300_000,
  forceUpgrade: false,
  notHonoured: [],
};

/** Both HelmRelease dialects normalized to what rendering needs. */
export interface ReleaseSpec {
  origin: SourcedObject['origin'];
  /** `Kind/namespace/name` of the HelmRelease, for messages. */
  ref: string;
  namespace: string;
  releaseName: string;
  targetNamespace: string;
  chart: ChartSource;
  /** Applied in order, then `values` on top (Flux semantics). */
  valuesFrom: ValuesRef[];
  values: Values;
  includeCrds: boolean;
  hooks: HookOptions;
  /** ServiceAccount (in the HelmRelease's namespace) its valuesFrom reads and its objects act as. */
  serviceAccountName?: string;
  options: ReleaseOptions;
}

export function isHelmRelease(s: SourcedObject): boolean {
  return isHelmReleaseKind(s.object);
}

/** A HelmRelease of either dialect, by its apiVersion and kind. */
export function isHelmReleaseKind(o: { apiVersion: string; kind: string }): boolean {
  return (
    o.kind === 'HelmRelease' && (o.apiVersion === CAPSTAN_HELMRELEASE || o.apiVersion === FLUX_V1_HELMRELEASE)
  );
}

/**
 * Reads a HelmRelease object (either dialect). `defaultNamespace` is where an object without
 * metadata.namespace would be applied, so the release lands where the HelmRelease itself would.
 */
export function readReleaseSpec(s: SourcedObject, defaultNamespace: string): ReleaseSpec {
  const o = s.object;
  const fail = (detail: string): never => {
    throw new RenderError(s.origin.file, `HelmRelease/${o.metadata.name}: ${detail}`, s.origin.document);
  };
  const spec = isMapping(o['spec']) ? o['spec'] : fail('missing spec');
  const namespace = o.metadata.namespace ?? defaultNamespace;
  const targetNamespace = optionalString(spec, 'targetNamespace', fail) ?? namespace;
  const values = spec['values'] === undefined || spec['values'] === null ? {} : spec['values'];
  if (!isMapping(values)) return fail('spec.values must be a mapping');
  const serviceAccountName = optionalString(spec, 'serviceAccountName', fail);
  const base = {
    origin: s.origin,
    namespace,
    targetNamespace,
    values,
    ...(serviceAccountName ? { serviceAccountName } : {}),
  };
  const explicitName = optionalString(spec, 'releaseName', fail);
  const chart = isMapping(spec['chart']) ? spec['chart'] : fail('missing spec.chart');

  if (o.apiVersion === FLUX_V1_HELMRELEASE) {
    const options = fluxV1Options(spec, fail);
    return {
      ...base,
      ref: `HelmRelease/${namespace}/${o.metadata.name}`,
      // Flux v1 (helm-operator GetReleaseName): both namespaces when the release goes elsewhere.
      releaseName:
        explicitName ??
        (namespace === targetNamespace
          ? `${targetNamespace}-${o.metadata.name}`
          : `${namespace}-${targetNamespace}-${o.metadata.name}`),
      chart: fluxV1Chart(chart, fail),
      valuesFrom: fluxV1ValuesFrom(spec['valuesFrom'], namespace, fail),
      includeCrds: spec['skipCRDs'] !== true,
      hooks: options.test ? { tests: true } : {},
      options,
    };
  }
  const install = isMapping(spec['install']) ? spec['install'] : {};
  const upgrade = isMapping(spec['upgrade']) ? spec['upgrade'] : {};
  return {
    ...base,
    ref: `HelmRelease/${namespace}/${o.metadata.name}`,
    // Flux v2's default: the target namespace prefixes the name only when one is set.
    releaseName:
      explicitName ?? (spec['targetNamespace'] ? `${targetNamespace}-${o.metadata.name}` : o.metadata.name),
    chart: capstanChart(chart, fail),
    valuesFrom: capstanValuesFrom(spec['valuesFrom'], namespace, fail),
    includeCrds: install['skipCRDs'] !== true,
    hooks: {
      disableInstallHooks: install['disableHooks'] === true,
      disableUpgradeHooks: upgrade['disableHooks'] === true,
    },
    options: DEFAULT_RELEASE_OPTIONS,
  };
}

/**
 * Helm Operator's deploy settings. `resetValues` and `maxHistory` are read, but Capstan keeps
 * no Helm release records: values always come from the HelmRelease as written (never reused from
 * an earlier release, which is `resetValues: true`), and history is the audit log, which is never
 * truncated. A HelmRelease that asks otherwise is told so in its status.
 */
function fluxV1Options(spec: Values, fail: (d: string) => never): ReleaseOptions {
  const seconds = (v: unknown, at: string, fallback: number): number => {
    if (v === undefined || v === null) return fallback * 1000;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      return fail(`${at} must be a number of seconds`);
    return v * 1000;
  };
  const flag = (o: Values, key: string, at: string, fallback = false): boolean => {
    const v = o[key];
    if (v === undefined || v === null) return fallback;
    return typeof v === 'boolean' ? v : fail(`${at} must be true or false`);
  };
  const section = (key: string): Values => {
    const v = spec[key];
    if (v === undefined || v === null) return {};
    return isMapping(v) ? v : fail(`spec.${key} must be a mapping`);
  };
  const timeoutMs = seconds(spec['timeout'], 'spec.timeout', 300);
  const test = section('test');
  const rollback = section('rollback');
  const maxRetries = rollback['maxRetries'];
  if (
    maxRetries !== undefined &&
    (typeof maxRetries !== 'number' || !Number.isInteger(maxRetries) || maxRetries < 0)
  )
    fail('spec.rollback.maxRetries must be a whole number');
  const notHonoured: string[] = [];
  const resetValues = flag(spec, 'resetValues', 'spec.resetValues');
  // Only with no values at all would Helm have reused the previous release's values.
  const noValues = !isMapping(spec['values']) || Object.keys(spec['values']).length === 0;
  if (spec['resetValues'] === false && !resetValues && noValues && spec['valuesFrom'] === undefined)
    notHonoured.push(
      "resetValues: false (no values here, so Helm would reuse the last release's; Capstan renders from the HelmRelease alone: the chart's defaults)",
    );
  if (spec['maxHistory'] !== undefined && spec['maxHistory'] !== null) {
    if (typeof spec['maxHistory'] !== 'number') fail('spec.maxHistory must be a number');
    notHonoured.push('maxHistory (history is the audit log, which is never truncated)');
  }
  return {
    wait: flag(spec, 'wait', 'spec.wait'),
    timeoutMs,
    forceUpgrade: flag(spec, 'forceUpgrade', 'spec.forceUpgrade'),
    ...(flag(test, 'enable', 'spec.test.enable')
      ? {
          test: {
            timeoutMs: seconds(test['timeout'], 'spec.test.timeout', timeoutMs / 1000),
            ignoreFailures: flag(test, 'ignoreFailures', 'spec.test.ignoreFailures'),
            cleanup: flag(test, 'cleanup', 'spec.test.cleanup', true),
          },
        }
      : {}),
    ...(flag(rollback, 'enable', 'spec.rollback.enable')
      ? {
          rollback: {
            retry: flag(rollback, 'retry', 'spec.rollback.retry'),
            maxRetries: typeof maxRetries === 'number' ? maxRetries : 5,
            wait: flag(rollback, 'wait', 'spec.rollback.wait'),
            timeoutMs: seconds(rollback['timeout'], 'spec.rollback.timeout', timeoutMs / 1000),
            recreate: flag(rollback, 'recreate', 'spec.rollback.recreate'),
          },
        }
      : {}),
    notHonoured,
  };
}

function capstanChart(chart: Values, fail: (d: string) => never): ChartSource {
  if (isMapping(chart['git'])) {
    return { kind: 'git', path: requiredString(chart['git'], 'path', 'spec.chart.git.path', fail) };
  }
  if (isMapping(chart['repository'])) {
    const r = chart['repository'];
    return {
      kind: 'repository',
      url: requiredString(r, 'url', 'spec.chart.repository.url', fail),
      name: requiredString(r, 'name', 'spec.chart.repository.name', fail),
      version: optionalString(r, 'version', fail) ?? '*',
    };
  }
  return fail('spec.chart needs git or repository');
}

function fluxV1Chart(chart: Values, fail: (d: string) => never): ChartSource {
  if (chart['git'] !== undefined) {
    const url =
      typeof chart['git'] === 'string' && chart['git'] !== ''
        ? chart['git']
        : fail('spec.chart.git must be a URL');
    const ref = optionalString(chart, 'ref', fail);
    return {
      kind: 'git',
      url,
      path: requiredString(chart, 'path', 'spec.chart.path', fail),
      ...(ref === undefined ? {} : { ref }),
      ...(chart['skipDepUpdate'] === true ? { skipDepUpdate: true } : {}),
    };
  }
  if (typeof chart['repository'] === 'string') {
    return {
      kind: 'repository',
      url: chart['repository'],
      name: requiredString(chart, 'name', 'spec.chart.name', fail),
      version: requiredString(chart, 'version', 'spec.chart.version', fail),
    };
  }
  return fail('spec.chart needs git or repository');
}

function capstanValuesFrom(value: unknown, namespace: string, fail: (d: string) => never): ValuesRef[] {
  return listOf(value, 'spec.valuesFrom', fail).map((entry, i) => {
    const at = `spec.valuesFrom[${i}]`;
    const kind = entry['kind'];
    if (kind !== 'ConfigMap' && kind !== 'Secret') return fail(`${at}.kind must be ConfigMap or Secret`);
    return {
      kind,
      namespace,
      name: requiredString(entry, 'name', `${at}.name`, fail),
      key: optionalString(entry, 'key', fail) ?? 'values.yaml',
      optional: entry['optional'] === true,
    };
  });
}

function fluxV1ValuesFrom(value: unknown, namespace: string, fail: (d: string) => never): ValuesRef[] {
  return listOf(value, 'spec.valuesFrom', fail).map((entry, i): ValuesRef => {
    const at = `spec.valuesFrom[${i}]`;
    for (const [field, kind] of [
      ['configMapKeyRef', 'ConfigMap'],
      ['secretKeyRef', 'Secret'],
    ] as const) {
      const ref = entry[field];
      if (isMapping(ref)) {
        return {
          kind,
          namespace: optionalString(ref, 'namespace', fail) ?? namespace,
          name: requiredString(ref, 'name', `${at}.${field}.name`, fail),
          key: optionalString(ref, 'key', fail) ?? 'values.yaml',
          optional: ref['optional'] === true,
        };
      }
    }
    const file = entry['chartFileRef'];
    if (isMapping(file)) {
      return {
        kind: 'ChartFile',
        path: requiredString(file, 'path', `${at}.chartFileRef.path`, fail),
        optional: file['optional'] === true,
      };
    }
    const external = entry['externalSourceRef'];
    if (isMapping(external)) {
      const url = requiredString(external, 'url', `${at}.externalSourceRef.url`, fail);
      if (!/^https?:\/\//i.test(url)) fail(`${at}.externalSourceRef.url must be an http(s) URL, got ${url}`);
      return { kind: 'URL', url, optional: external['optional'] === true };
    }
    return fail(`${at} needs configMapKeyRef, secretKeyRef, chartFileRef or externalSourceRef`);
  });
}

/** `git@host:org/repo.git`, `ssh://git@host/org/repo` and `https://host/org/repo` are one repository. */
export function normalizeGitUrl(url: string): string {
  let u = url
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.*)$/.exec(u);
  if (scp) u = `${scp[1] ?? ''}/${scp[2] ?? ''}`;
  else u = u.replace(/^[a-z+]+:\/\//, '').replace(/^[^@/]+@/, '');
  return u.replace(/:\d+\//, '/').toLowerCase();
}

function listOf(value: unknown, at: string, fail: (d: string) => never): Values[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(`${at} must be a list`);
  return value.map((v, i) => (isMapping(v) ? v : fail(`${at}[${i}] must be a mapping`)));
}

function requiredString(o: Values, key: string, at: string, fail: (d: string) => never): string {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : fail(`missing ${at}`);
}

function optionalString(o: Values, key: string, fail: (d: string) => never): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : fail(`${key} must be a string`);
}
