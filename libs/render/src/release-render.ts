import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { crossNamespaceRefusal, withoutCredentials } from '@capstan/gitops-core';
import { ChartNotFoundError } from './chart-fetcher.js';
import { CrossNamespaceRefError, RenderError, toolMessage } from './errors.js';
import { runTool } from './exec.js';
import { helmTemplate, type RenderedObject } from './helm.js';
import { normalizeGitUrl, type ReleaseSpec, type ValuesRef } from './helm-release.js';
import type { RenderInput } from './render.js';
import { insideRepository } from './repository.js';
import { GuardedUrlValues } from './url-values.js';
import { LimitExceededError, RenderBudget, fileTooLarge, parseBoundedYaml } from './limits.js';
import { chartUrlProblem } from './git-charts.js';
import { isMapping, mergeValues, type Values } from './values.js';
import type { ValuesSource } from './values-source.js';

/** What one release rendered, and which chart and values it rendered with (its history's row). */
export interface RenderedRelease {
  objects: RenderedObject[];
  chart: { name: string; version: string };
  /** sha256 of the merged values: two revisions with the same digest had the same values. */
  valuesDigest: string;
}

/** One HelmRelease's chart, fetched or checked out, with its values layered as Flux does, through `helm template`. */
export async function renderRelease(
  input: RenderInput,
  release: ReleaseSpec,
  scratch: string,
  budget: RenderBudget = new RenderBudget(),
): Promise<RenderedRelease> {
  if (release.chart.kind !== 'git') {
    const fetched = await repositoryChart(input, release);
    return renderWithChart(input, release, scratch, budget, fetched, {
      name: release.chart.name,
      version: fetched.version,
    });
  }
  const source = await chartCheckout(input, release, release.chart);
  try {
    const path = insideRepository(release.chart.path, release.origin.file);
    const dir = join(source.root, path);
    const where = source.label === undefined ? path || '.' : `${path || '.'} of ${source.label}`;
    const hasChart = await stat(join(dir, 'Chart.yaml')).then(
      () => true,
      () => false,
    );
    if (source.label === undefined)
      for (const [file, size] of input.oversized ?? [])
        if (path === '' || file.startsWith(`${path}/`))
          throw fileTooLarge(file, size, budget.limits.maxFileBytes);
    if (!hasChart)
      throw new RenderError(
        release.origin.file,
        `${release.ref}: no chart at ${where} (Chart.yaml not found)`,
        release.origin.document,
      );
    await input.dependencies?.ensure({
      dir,
      root: source.root,
      // A chart in the synced commit is named by its file; one elsewhere by the HelmRelease.
      ...(source.label === undefined
        ? { chartFile: posix.join(path, 'Chart.yaml') }
        : { chartFile: release.origin.file, document: release.origin.document }),
      release:
        source.label === undefined
          ? release.ref
          : `${release.ref}: ${posix.join(path, 'Chart.yaml')} of ${source.label}`,
      ...(release.chart.skipDepUpdate ? { skip: true } : {}),
      charts: input.charts,
    });
    return await renderWithChart(
      input,
      release,
      scratch,
      budget,
      { archive: dir, files: dir },
      await chartIdentity(dir),
    );
  } finally {
    source.release();
  }
}

/** A chart from a Helm repository; a missing chart or version is the commit's fault, a silent repository is not. */
async function repositoryChart(
  input: RenderInput,
  release: ReleaseSpec,
): Promise<{ archive: string; version: string }> {
  if (release.chart.kind !== 'repository') throw new Error('not a repository chart');
  const { url, name, version } = release.chart;
  try {
    return await input.charts.fetch(url, name, version);
  } catch (e) {
    if (e instanceof ChartNotFoundError)
      throw new RenderError(release.origin.file, `${release.ref}: ${e.detail}`, release.origin.document);
    // Unreachable repository: retried, but the message names the release, its file and the URL.
    throw new Error(`${release.origin.file}: ${release.ref}: chart ${name} from ${withoutCredentials(url)}`, {
      cause: e,
    });
  }
}

/**
 * Where a git chart's repository is on disk. Flux v1 cloned `chart.git` at `chart.ref` (default
 * master); when that is the synced repository and ref, the synced commit itself is used, so the
 * chart moves in step with the manifests that use it.
 */
async function chartCheckout(
  input: RenderInput,
  release: ReleaseSpec,
  chart: Extract<ReleaseSpec['chart'], { kind: 'git' }>,
): Promise<{ root: string; label?: string; release: () => void }> {
  const synced = { root: input.root, release: () => undefined };
  if (chart.url === undefined) return synced;
  const ref = chart.ref ?? 'master';
  const sameRepository =
    input.repositoryUrl === undefined || normalizeGitUrl(chart.url) === normalizeGitUrl(input.repositoryUrl);
  const sameRef =
    input.repositoryRef === undefined ||
    ref === input.repositoryRef ||
    (input.repositorySha !== undefined && ref.length >= 7 && input.repositorySha.startsWith(ref));
  if (sameRepository && sameRef) return synced;
  const label = `${withoutCredentials(chart.url)}@${ref}`;
  const fail = (detail: string): never => {
    throw new RenderError(
      release.origin.file,
      `${release.ref}: spec.chart.git ${label}: ${detail}`,
      release.origin.document,
    );
  };
  const problem = chartUrlProblem(chart.url, input.repositoryUrl, input.sourceSchemes);
  if (problem !== undefined) return fail(problem);
  if (!input.gitCharts) return fail('charts from another repository or ref cannot be read here');
  try {
    const checkout = await input.gitCharts.checkout(chart.url, ref);
    return {
      root: checkout.root,
      label: `${label} (${checkout.sha.slice(0, 12)})`,
      release: () => checkout.release(),
    };
  } catch (e) {
    if (e instanceof ChartNotFoundError)
      return fail(
        chart.ref === undefined ? `${e.detail} (spec.chart.ref defaults to master, as in Flux v1)` : e.detail,
      );
    // Unreachable remotes are retried; the message still says which HelmRelease needed them.
    throw new Error(`${release.origin.file}: ${release.ref}: spec.chart.git ${label}: ${toolMessage(e)}`);
  }
}

async function renderWithChart(
  input: RenderInput,
  release: ReleaseSpec,
  scratch: string,
  budget: RenderBudget,
  chart: { archive: string; files?: string },
  identity: RenderedRelease['chart'],
): Promise<RenderedRelease> {
  const fail = (detail: string): never => {
    throw new RenderError(release.origin.file, `${release.ref}: ${detail}`, release.origin.document);
  };
  let chartFiles = chart.files;
  let values: Values = {};
  for (const [i, ref] of release.valuesFrom.entries()) {
    let text: string | undefined;
    if (ref.kind === 'URL') {
      try {
        text = await (
          input.urlValues ??
          new GuardedUrlValues({ policy: { allowedHosts: [] }, maxBytes: budget.limits.maxFileBytes })
        ).get(ref.url);
      } catch (e) {
        if (ref.optional) continue;
        return fail(
          `spec.valuesFrom[${i}].externalSourceRef ${withoutCredentials(ref.url)}: ${toolMessage(e)}`,
        );
      }
    } else {
      const refused =
        ref.kind === 'ConfigMap' || ref.kind === 'Secret'
          ? crossNamespaceRefusal(
              `spec.valuesFrom[${i}]`,
              release.namespace,
              ref,
              input.allowCrossNamespaceRefs === true,
            )
          : undefined;
      if (refused)
        throw new CrossNamespaceRefError(
          release.origin.file,
          `${release.ref}: ${refused.message}`,
          release.origin.document,
        );
      const source =
        input.valuesFor?.({
          namespace: release.namespace,
          ...(release.serviceAccountName ? { serviceAccountName: release.serviceAccountName } : {}),
        }) ?? input.values;
      text = await readValues(ref, source, async (path) => {
        chartFiles ??= await extract(chart.archive, scratch);
        return join(chartFiles, insideRepository(path, release.origin.file));
      });
    }
    if (text === undefined) {
      if (ref.optional) continue;
      return fail(`spec.valuesFrom[${i}]: ${describeRef(ref)} not found`);
    }
    const field = `${release.ref}: spec.valuesFrom[${i}]: ${describeRef(ref)}`;
    const size = Buffer.byteLength(text);
    if (size > budget.limits.maxFileBytes)
      throw new LimitExceededError(
        release.origin.file,
        'maxFileBytes',
        `${field}: ${size} bytes is over the limit of ${budget.limits.maxFileBytes} bytes per file (limit maxFileBytes)`,
        release.origin.document,
      );
    let layer: unknown;
    try {
      layer = parseBoundedYaml(text, release.origin.file, budget.yaml, `${field} is not valid YAML`);
    } catch (e) {
      if (e instanceof LimitExceededError)
        throw new LimitExceededError(
          release.origin.file,
          e.limit,
          `${field}: ${e.detail}`,
          release.origin.document,
        );
      if (e instanceof RenderError) return fail(e.detail.replace(`${release.ref}: `, ''));
      throw e;
    }
    if (layer === null || layer === undefined) continue;
    if (!isMapping(layer)) return fail(`spec.valuesFrom[${i}]: ${describeRef(ref)} is not a YAML mapping`);
    values = mergeValues(values, layer);
  }
  values = mergeValues(values, release.values);

  const valuesFile = join(scratch, `${release.releaseName}-${release.origin.document}-values.json`);
  const json = JSON.stringify(values);
  await writeFile(valuesFile, json);
  return {
    objects: await helmTemplate(input.helm, release, chart.archive, valuesFile, input.root, budget),
    chart: identity,
    valuesDigest: `sha256:${createHash('sha256').update(json).digest('hex')}`,
  };
}

/** Name and version from a chart folder's Chart.yaml. */
async function chartIdentity(dir: string): Promise<RenderedRelease['chart']> {
  const meta = parse(await readFile(join(dir, 'Chart.yaml'), 'utf8').catch(() => '')) as {
    name?: unknown;
    version?: unknown;
  } | null;
  return {
    name: typeof meta?.name === 'string' ? meta.name : '',
    version: typeof meta?.version === 'string' ? meta.version : '',
  };
}

async function readValues(
  ref: Exclude<ValuesRef, { kind: 'URL' }>,
  source: ValuesSource,
  chartFile: (path: string) => Promise<string>,
): Promise<string | undefined> {
  if (ref.kind === 'ChartFile') return readFile(await chartFile(ref.path), 'utf8').catch(() => undefined);
  return source.read(ref.kind, ref.namespace, ref.name, ref.key);
}

function describeRef(ref: ValuesRef): string {
  switch (ref.kind) {
    case 'ChartFile':
      return `chart file ${ref.path}`;
    case 'URL':
      return `externalSourceRef ${withoutCredentials(ref.url)}`;
    case 'ConfigMap':
    case 'Secret':
      return `${ref.kind} ${ref.namespace}/${ref.name} key ${ref.key}`;
  }
}

/** A repository chart archive, unpacked once for chartFileRef values. */
async function extract(archive: string, scratch: string): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'chart-'));
  await runTool('tar', ['-xzf', archive, '-C', dir]);
  const [top] = (await readdir(dir)).sort();
  return top === undefined ? dir : join(dir, top);
}
