import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { parse, stringify } from 'yaml';
import { RenderError, ToolError, toolMessage } from './errors.js';
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
}

/**
 * Runs `helm dependency build` in a chart folder whose Chart.yaml (or requirements.yaml) declares
 * dependencies that charts/ does not hold, once per folder: a checkout is one commit, shared by
 * every Sync that renders it, so the same commit never downloads dependencies twice. Vendored
 * dependencies are used as they are, without touching the network.
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
    const home = await mkdtemp(join(tmpdir(), 'capstan-helm-home-'));
    const repositories = repositoryNames(declared);
    try {
      const env = helmEnv(home);
      // With a Chart.lock, helm builds only from repositories it knows by name: declare each one.
      await writeRepositoryConfig(
        env['HELM_REPOSITORY_CONFIG'] ?? join(home, 'repositories.yaml'),
        repositories,
      );
      await runTool(this.helm, ['dependency', 'build', '.'], {
        cwd: chart.dir,
        env,
        timeoutMs: 300_000,
      });
    } catch (e) {
      throw new RenderError(
        chart.chartFile,
        `${chart.release}: helm dependency build failed: ${dependencyBuildMessage(e, repositories)}`,
        chart.document,
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }
}

/**
 * helm reports a repository it cannot reach on stdout and then fails with "no cached repository
 * for <name>", which names neither the URL nor the cause: lead with the cause, by URL.
 */
export function dependencyBuildMessage(e: unknown, urls: ReadonlyMap<string, string> = new Map()): string {
  const stdout = e instanceof ToolError ? e.stdout : '';
  const unreachable: string[] = [];
  const lines = stdout.split('\n');
  for (const [i, line] of lines.entries()) {
    const repo = /Unable to get an update from the "([^"]+)" chart repository/.exec(line)?.[1];
    if (repo !== undefined)
      unreachable.push(
        `chart repository ${urls.get(repo) ?? repo} unreachable: ${lines[i + 1]?.trim() ?? ''}`,
      );
  }
  const own = toolMessage(e);
  if (unreachable.length === 0) return own;
  return /no cached repository for /.test(own) ? unreachable.join('; ') : [...unreachable, own].join('; ');
}

/** Our name for each HTTP repository the dependencies come from (name -> URL). */
function repositoryNames(declared: readonly DeclaredDependency[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const { repository } of declared)
    if (/^https?:\/\//i.test(repository))
      names.set(`capstan-${createHash('sha256').update(repository).digest('hex').slice(0, 16)}`, repository);
  return names;
}

/** A helm repositories.yaml declaring those repositories. */
async function writeRepositoryConfig(file: string, repositories: ReadonlyMap<string, string>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(
    file,
    stringify({
      apiVersion: '',
      generated: '0001-01-01T00:00:00Z',
      repositories: [...repositories].map(([name, url]) => ({ name, url })),
    }),
  );
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
      declared.push({ name, repository });
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
