import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ManifestError,
  assertUnique,
  inventoryId,
  parseManifests,
  type KubeObject,
  type SourcedObject,
} from '@capstan/gitops-core';
import { policyOf, splitByPolicy } from './annotations.js';
import type { ChartFetcher } from './chart-fetcher.js';
import { ChartDependencies } from './chart-dependencies.js';
import { RenderError } from './errors.js';
import type { GitChartSource } from './git-charts.js';
import type { RenderedObject } from './helm.js';
import { isHelmRelease, readReleaseSpec } from './helm-release.js';
import { splitHooks, sortHooks, type HookGroups } from './hooks.js';
import { kustomizeBuild } from './kustomize.js';
import { renderRelease } from './release-render.js';
import { insideRepository, scanFolder } from './repository.js';
import type { UrlValuesSource } from './url-values.js';
import type { ValuesSource } from './values-source.js';

export interface RenderInput {
  /** A folder holding the whole repository at the commit (see `materialize`). */
  root: string;
  /** The Sync's path inside the repository. */
  path: string | undefined;
  /** Namespace for objects (and HelmReleases) that name none: the Sync's targetNamespace. */
  defaultNamespace: string;
  /** The synced repository's URL: a Flux v1 git chart naming it (at `repositoryRef`) renders from `root`. */
  repositoryUrl?: string;
  /** The branch or tag the synced commit came from; unknown means "whatever a chart.ref says". */
  repositoryRef?: string;
  /** The synced commit. */
  repositorySha?: string;
  /** Other repositories and refs, for Flux v1 charts outside the synced commit. */
  gitCharts?: GitChartSource;
  /** Shared across renders so a checkout's chart dependencies are built once. */
  dependencies?: ChartDependencies;
  /** Flux v1 externalSourceRef values; plain HTTP(S) when not given. */
  urlValues?: UrlValuesSource;
  values: ValuesSource;
  charts: ChartFetcher;
  helm: string;
  kustomize: string;
  /** Scope of a kind, when known (ObjectApi.isNamespaced); used for namespace defaults and ids. */
  isNamespaced?: (apiVersion: string, kind: string) => Promise<boolean | undefined>;
}

export interface RenderResult {
  /** What to apply, HelmReleases replaced by their charts' objects. */
  objects: RenderedObject[];
  /** Helm hooks of all releases, in run order. */
  hooks: HookGroups;
  /** Objects Git declares but asks Capstan to leave alone (fluxcd.io/ignore, capstan.dev/reconcile). */
  skipped: RenderedObject[];
  /** Inventory ids of applied objects that prune must never delete (fluxcd.io/ignore: sync_only). */
  neverPrune: Set<string>;
  /** Inventory ids of `skipped`: prune must never delete them either (see protectedIds). */
  ignored: Set<string>;
}

/**
 * Builds what a Sync path declares: plain YAML, kustomizations, and HelmReleases rendered with
 * helm. All-or-nothing: any bad input throws a RenderError naming the file, so a broken commit
 * applies nothing.
 */
export async function render(input: RenderInput): Promise<RenderResult> {
  const rel = insideRepository(input.path ?? '', input.path ?? '.');
  const info = await stat(join(input.root, rel)).catch(() => undefined);
  if (!info?.isDirectory()) throw new RenderError(rel || '.', 'path not found in the repository');

  const declared: SourcedObject[] = [];
  for (const entry of await scanFolder(input.root, rel)) {
    if (entry.kind === 'kustomization')
      declared.push(...(await kustomizeBuild(input.kustomize, input.root, entry.path)));
    else declared.push(...(await readManifest(input.root, entry.path)));
  }

  const scratch = await mkdtemp(join(tmpdir(), 'capstan-render-'));
  input = { ...input, dependencies: input.dependencies ?? new ChartDependencies(input.helm) };
  try {
    const expanded: RenderedObject[] = [];
    const hooks: HookGroups = { pre: [], post: [] };
    const inheritedNeverPrune: RenderedObject[] = [];
    for (const s of declared) {
      if (!isHelmRelease(s) || policyOf(s.object) === 'skip') {
        expanded.push(s);
        continue;
      }
      const release = readReleaseSpec(s, input.defaultNamespace);
      const rendered = await renderRelease(input, release, scratch);
      const split = splitHooks(
        await defaultNamespaces(rendered, release.targetNamespace, input.isNamespaced),
        release.releaseName,
        release.hooks,
      );
      expanded.push(...split.objects);
      hooks.pre.push(...split.hooks.pre);
      hooks.post.push(...split.hooks.post);
      // sync_only on a HelmRelease protects everything it renders.
      if (policyOf(s.object) === 'apply-never-prune') inheritedNeverPrune.push(...split.objects);
    }

    const idOf = await idResolver(expanded, input.defaultNamespace, input.isNamespaced);
    const split = splitByPolicy(expanded, idOf);
    for (const s of inheritedNeverPrune) split.neverPrune.add(idOf(s.object));
    try {
      assertUnique(split.objects, idOf);
    } catch (e) {
      if (e instanceof ManifestError) throw new RenderError(e.file, e.detail, e.document);
      throw e;
    }
    return {
      objects: split.objects,
      skipped: split.skipped,
      neverPrune: split.neverPrune,
      ignored: split.ignored,
      // Releases render in file order; within the whole set Helm's weight order decides.
      hooks: { pre: sortHooks(hooks.pre.filter(notSkipped)), post: sortHooks(hooks.post.filter(notSkipped)) },
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function notSkipped(s: SourcedObject): boolean {
  return policyOf(s.object) !== 'skip';
}

async function readManifest(root: string, path: string): Promise<SourcedObject[]> {
  const content = await readFile(join(root, path), 'utf8');
  try {
    return parseManifests([{ path, content }]);
  } catch (e) {
    if (e instanceof ManifestError) throw new RenderError(e.file, e.detail, e.document);
    throw e;
  }
}

/**
 * Helm installs objects without a namespace into the release namespace; applied outside Helm,
 * they must say so themselves. Cluster-scoped kinds keep none (the applier strips it anyway).
 */
async function defaultNamespaces(
  objects: RenderedObject[],
  namespace: string,
  isNamespaced: RenderInput['isNamespaced'],
): Promise<RenderedObject[]> {
  const out: RenderedObject[] = [];
  for (const s of objects) {
    if (s.object.metadata.namespace || (await scopeOf(s.object, isNamespaced)) === false) {
      out.push(s);
      continue;
    }
    out.push({ ...s, object: { ...s.object, metadata: { ...s.object.metadata, namespace } } });
  }
  return out;
}

/** Inventory id of each object as it will be applied (namespace defaulted for namespaced kinds). */
async function idResolver(
  objects: readonly SourcedObject[],
  defaultNamespace: string,
  isNamespaced: RenderInput['isNamespaced'],
): Promise<(o: KubeObject) => string> {
  const clusterScoped = new Set<string>();
  for (const s of objects) {
    if (!s.object.metadata.namespace && (await scopeOf(s.object, isNamespaced)) === false)
      clusterScoped.add(`${s.object.apiVersion}/${s.object.kind}`);
  }
  return (o) =>
    o.metadata.namespace || clusterScoped.has(`${o.apiVersion}/${o.kind}`)
      ? inventoryId(o)
      : inventoryId({ ...o, metadata: { ...o.metadata, namespace: defaultNamespace } });
}

/** Well-known cluster-scoped kinds, for when no API server is asked (pure tests, unknown CRDs). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
]);

async function scopeOf(
  o: KubeObject,
  isNamespaced: RenderInput['isNamespaced'],
): Promise<boolean | undefined> {
  const known = await isNamespaced?.(o.apiVersion, o.kind).catch(() => undefined);
  if (known !== undefined) return known;
  return CLUSTER_SCOPED.has(o.kind) ? false : undefined;
}
