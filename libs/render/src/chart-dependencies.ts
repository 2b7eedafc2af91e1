import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import { parse } from 'yaml';
import { withoutCredentials } from '@capstan/gitops-core';
import type { ChartFetcher } from './chart-fetcher.js';
import { RenderError, toolMessage } from './errors.js';
import { runTool } from './exec.js';
import { helmEnv } from './helm-env.js';
import { LockedDependencyCache, type DeclaredDependency } from './locked-dependencies.js';
import { isMapping } from './values.js';
import { DEFAULT_RENDER_LIMITS, parseBoundedYaml } from './limits.js';

const DEFAULT_YAML_BOUNDS = { maxExpandedBytes: DEFAULT_RENDER_LIMITS.maxYamlExpandedBytes };

/** Which chart to prepare, and how to name it in errors. */
export interface ChartToPrepare {
  /** The chart folder on disk (inside a checkout). */
  dir: string;
  /** Its Chart.yaml as errors should name it (repository-relative, or `<url>@<ref>:<path>`). */
  chartFile: string;
  /** The document of `chartFile` to name, when that is the HelmRelease's file. */
  document?: number;
  /** The HelmRelease asking, for messages. */
  release: string;
  /** Flux v1 `chart.skipDepUpdate`: the charts/ folder is trusted as it is. */
  skip?: boolean;
  /** The checkout the chart is in: `file://` dependencies must stay inside it. */
  root?: string;
  /**
   * Where dependencies from Helm HTTP repositories are read: the reconciler's own guarded
   * fetcher (addresses checked and pinned, answers bounded), never helm's.
   */
  charts: ChartFetcher;
}

/**
 * Fills a chart's charts/ folder with the dependencies its Chart.yaml (or requirements.yaml)
 * declares and charts/ does not hold, as `helm dependency build` would, once per folder: a
 * checkout is one commit, shared by every Sync that renders it, so the same commit never
 * downloads dependencies twice. Vendored dependencies are used as they are.
 *
 * helm never touches the network here: its own downloads would resolve names again after any
 * check of ours (DNS rebinding) and read answers of any size. Archives from Helm HTTP repositories
 * are fetched by the ChartFetcher (each name resolved once, checked, connected to at that
 * address; index and archive bounded), at the version Chart.lock pins or else the highest the
 * range allows; `file://` dependencies are packaged by `helm package`, offline; OCI dependencies
 * must be vendored.
 */
export class ChartDependencies {
  private readonly prepared = new Map<string, Promise<void>>();
  private readonly locked: LockedDependencyCache | undefined;
  private readonly keep: number;

  /** With `cacheDir`, archives of charts with a lock file are also kept across commits. */
  constructor(
    private readonly helm: string,
    options: { cacheDir?: string; keep?: number } = {},
  ) {
    this.locked = options.cacheDir === undefined ? undefined : new LockedDependencyCache(options.cacheDir);
    this.keep = options.keep ?? 256;
  }

  ensure(chart: ChartToPrepare): Promise<void> {
    let pending = this.prepared.get(chart.dir);
    if (!pending) {
      pending = this.prepare(chart);
      this.prepared.set(chart.dir, pending);
      // A failure (an unreachable repository included) is tried again by the next render.
      pending.catch(() => this.prepared.delete(chart.dir));
      while (this.prepared.size > this.keep) {
        const oldest = this.prepared.keys().next().value;
        if (oldest === undefined) break;
        this.prepared.delete(oldest);
      }
    }
    return pending;
  }

  private async prepare(chart: ChartToPrepare): Promise<void> {
    const declared = await declaredDependencies(chart);
    if (chart.root !== undefined) assertLocalDependencies(chart, chart.root, declared);
    if (declared.length === 0 || chart.skip) return;
    const charts = join(chart.dir, 'charts');
    const present = await vendoredCharts(charts);
    if (declared.every((d) => present.has(d.name))) return;
    const key = await this.locked?.keyOf(chart.dir, declared);
    if (key !== undefined && (await this.locked?.restore(key, charts))) return;
    await this.build(chart, declared);
    if (key !== undefined) await this.locked?.store(key, charts);
  }

  private async build(chart: ChartToPrepare, declared: readonly DeclaredDependency[]): Promise<void> {
    const charts = join(chart.dir, 'charts');
    await mkdir(charts, { recursive: true });
    const present = await vendoredCharts(charts);
    const locked = await lockedVersions(chart);
    for (const [i, dep] of declared.entries()) {
      if (present.has(dep.name)) continue;
      const where = `${chart.release}: dependencies[${i}] ${dep.name}`;
      const fail = (detail: string) =>
        new RenderError(chart.chartFile, `${where}: ${detail}`, chart.document);
      const repository = dep.repository;
      // No repository: the chart must be in charts/ already; helm template names it if not.
      if (repository === '') continue;
      if (/^file:\/\//i.test(repository)) {
        await this.packageLocal(join(chart.dir, repository.slice('file://'.length)), charts).catch(
          (e: unknown) => {
            throw fail(`helm package ${repository} failed: ${toolMessage(e)}`);
          },
        );
        continue;
      }
      if (!/^https?:\/\//i.test(repository))
        throw fail(
          /^oci:\/\//i.test(repository)
            ? `${withoutCredentials(repository)}: OCI dependencies are not downloaded by Capstan; vendor the chart into charts/ (helm dependency build) and commit it`
            : `repository ${withoutCredentials(repository)} is not an http(s) or file:// URL (named repositories are not configured here)`,
        );
      const version =
        locked.get(`${dep.name}\0${repository.replace(/\/+$/, '')}`) ?? semverRange(dep.version);
      const fetched = await chart.charts.fetch(repository, dep.name, version).catch((e: unknown) => {
        throw fail(describeFetchError(e));
      });
      await copyFile(fetched.archive, join(charts, `${dep.name}-${fetched.version}.tgz`));
    }
  }

  /** `helm package` of a local dependency into charts/: what `dependency build` does, offline. */
  private async packageLocal(dir: string, charts: string): Promise<void> {
    const home = await mkdtemp(join(tmpdir(), 'capstan-helm-home-'));
    try {
      await runTool(this.helm, ['package', dir, '--destination', charts], {
        cwd: charts,
        env: helmEnv(home),
        timeoutMs: 60_000,
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }
}

/** A fetch failure with its cause (connection refused, TLS, DNS), which the message alone hides. */
function describeFetchError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${e.message}: ${typeof code === 'string' && !cause.message.includes(code) ? `${code} ` : ''}${cause.message}`;
  }
  return e.message;
}

/**
 * Helm's (Masterminds) constraint syntax as node-semver reads it: a comma joins ranges that must
 * all hold, which node-semver writes with a space. Empty means any version.
 */
export function semverRange(version: string | undefined): string {
  const v = (version ?? '').trim();
  return v === '' ? '*' : v.replace(/\s*,\s*/g, ' ');
}

/** The exact versions Chart.lock (or requirements.lock) pins, by name and repository. */
async function lockedVersions(chart: ChartToPrepare): Promise<Map<string, string>> {
  const pinned = new Map<string, string>();
  for (const file of ['Chart.lock', 'requirements.lock']) {
    const text = await readFile(join(chart.dir, file), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const named = chart.chartFile.replace(/Chart\.yaml$/, file);
    const doc = parseBoundedYaml(text, named, DEFAULT_YAML_BOUNDS, `${chart.release}: invalid YAML`);
    const list = isMapping(doc) ? doc['dependencies'] : undefined;
    if (!Array.isArray(list)) continue;
    for (const dep of list) {
      if (!isMapping(dep)) continue;
      const { name, repository, version } = dep;
      if (typeof name === 'string' && typeof repository === 'string' && typeof version === 'string')
        pinned.set(`${name}\0${repository.replace(/\/+$/, '')}`, version);
    }
    return pinned;
  }
  return pinned;
}

/**
 * helm reads a `file://` dependency from wherever it points, so one must stay inside the
 * repository the chart comes from: `file://../../other-team` could be another checkout, a
 * mirror, or anything the reconciler can read.
 */
function assertLocalDependencies(
  chart: ChartToPrepare,
  root: string,
  declared: readonly DeclaredDependency[],
): void {
  const base = relative(root, chart.dir).split(sep).join('/');
  for (const [i, { name, repository }] of declared.entries()) {
    if (!/^file:\/\//i.test(repository)) continue;
    const target = repository.slice('file://'.length);
    const inside =
      !target.startsWith('/') &&
      !posix.normalize(posix.join(base || '.', target)).startsWith('..') &&
      !isAbsolute(target);
    if (!inside)
      throw new RenderError(
        chart.chartFile,
        `${chart.release}: dependencies[${i}] ${name}: ${repository} is outside the repository (file:// dependencies must stay in it)`,
        chart.document,
      );
  }
}

/** Dependencies listed in Chart.yaml (apiVersion v2) or requirements.yaml (v1). */
async function declaredDependencies(chart: ChartToPrepare): Promise<DeclaredDependency[]> {
  const declared: DeclaredDependency[] = [];
  for (const file of ['Chart.yaml', 'requirements.yaml']) {
    const text = await readFile(join(chart.dir, file), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const named = file === 'Chart.yaml' ? chart.chartFile : chart.chartFile.replace(/Chart\.yaml$/, file);
    const doc = parseBoundedYaml(text, named, DEFAULT_YAML_BOUNDS, `${chart.release}: invalid YAML`);
    const list = isMapping(doc) ? doc['dependencies'] : undefined;
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new RenderError(named, `${chart.release}: dependencies must be a list`);
    for (const [i, dep] of list.entries()) {
      const name = isMapping(dep) ? dep['name'] : undefined;
      if (typeof name !== 'string' || name === '')
        throw new RenderError(named, `${chart.release}: dependencies[${i}] has no name`);
      const repository = isMapping(dep) && typeof dep['repository'] === 'string' ? dep['repository'] : '';
      const version = isMapping(dep) ? dep['version'] : undefined;
      declared.push({
        name,
        repository,
        version: typeof version === 'string' || typeof version === 'number' ? String(version) : '',
      });
    }
  }
  return declared;
}

/**
 * Names of the charts in a charts/ folder: unpacked folders, and archives named the way
 * `helm package` names them (`<name>-<semver>.tgz`). helm template itself matches by name only.
 */
async function vendoredCharts(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) {
      const doc: unknown = await readFile(join(dir, entry.name, 'Chart.yaml'), 'utf8')
        .then((t) => parse(t) as unknown)
        .catch(() => undefined);
      if (isMapping(doc) && typeof doc['name'] === 'string') names.add(doc['name']);
      continue;
    }
    const archive = /^(.+)-v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?\.tgz$/.exec(entry.name);
    if (archive?.[1]) names.add(archive[1]);
  }
  return names;
}
