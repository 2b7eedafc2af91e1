import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FLUX_IGNORE_ANNOTATION,
  FORCE_ANNOTATION,
  ManifestError,
  assertUnique,
  digestOf,
  inventoryId,
  parseManifests,
  type KubeObject,
  type SourcedObject,
} from '@capstan/gitops-core';
import { policyOf, splitByPolicy } from './annotations.js';
import type { ChartFetcher } from './chart-fetcher.js';
import { ChartDependencies } from './chart-dependencies.js';
import type { RemoteFetchGuardOptions } from './remote-fetch-guard.js';
import { CrossNamespaceRefError, RenderError } from './errors.js';
import type { GitChartSource } from './git-charts.js';
import type { RenderedObject } from './helm.js';
import { isHelmRelease, readReleaseSpec, type ReleaseOptions, type ReleaseSpec } from './helm-release.js';
import { splitHooks, sortHooks, type HookGroups } from './hooks.js';
import { kustomizeBuild } from './kustomize.js';
import {
  DEFAULT_RENDER_LIMITS,
  RenderBudget,
  fileTooLarge,
  manifestToRenderError,
  type RenderLimits,
} from './limits.js';
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
  /**
   * The ValuesSource a release's valuesFrom is read through, per HelmRelease namespace and
   * ServiceAccount (the reconciler's impersonating clients); `values` when not given.
   */
  valuesFor?: (release: { namespace: string; serviceAccountName?: string }) => ValuesSource;
  /** Let valuesFrom name ConfigMaps and Secrets of other namespaces (off: CrossNamespaceRefNotAllowed). */
  allowCrossNamespaceRefs?: boolean;
  charts: ChartFetcher;
  helm: string;
  kustomize: string;
  /**
   * A HelmRelease that fails to render is left out (listed in `releases` with its failure)
   * instead of failing the whole set: each release is its own release, as in Helm Operator.
   */
  isolateReleases?: boolean;
  /**
   * With `isolateReleases`: asked before each HelmRelease renders. A failure message means "not
   * now" (the release waits out its own retry backoff): it is left out as failed with that
   * message, without fetching its chart again.
   */
  deferRelease?: (release: { namespace: string; name: string; specDigest: string }) => string | undefined;
  /** Scope of a kind, when known (ObjectApi.isNamespaced); used for namespace defaults and ids. */
  isNamespaced?: (apiVersion: string, kind: string) => Promise<boolean | undefined>;
  /** Sizes and counts one render may reach (DEFAULT_RENDER_LIMITS when unset). */
  limits?: RenderLimits;
  /** Files of the repository left off the disk for being over maxFileBytes (path -> size). */
  oversized?: ReadonlyMap<string, number>;
  /** Let kustomizations name remote bases (off: kustomize would fetch any URL). */
  kustomizeRemoteBases?: boolean;
  /** How remote bases' fetches are fenced in (addresses checked and pinned, bytes bounded). */
  remoteFetch?: Partial<RemoteFetchGuardOptions>;
  /**
   * Schemes a HelmRelease's `spec.chart.git` may use (see SourcePolicy); unset: any but local
   * ones, and local ones only when the synced repository is local too.
   */
  sourceSchemes?: readonly string[];
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
  /** Every HelmRelease of the set that is not ignored, and why it failed if it did. */
  releases: ReleaseResult[];
  /**
   * The HelmRelease objects themselves (with `isolateReleases`), for a caller that applies them so
   * each release exists in the cluster with its own status, as with Helm Operator.
   */
  releaseObjects: SourcedObject[];
}

export interface ReleaseResult {
  apiVersion: string;
  namespace: string;
  name: string;
  origin: SourcedObject['origin'];
  /** Helm's release name (spec.releaseName, or Flux v1's default); unset when the spec did not read. */
  releaseName?: string;
  /** The chart and values it rendered with (unset when it failed). */
  chart?: { name: string; version: string };
  valuesDigest?: string;
  /** The HelmRelease's spec.serviceAccountName: its objects are written as that account. */
  serviceAccountName?: string;
  /** sha256 of the HelmRelease's spec as written: a changed spec is a new attempt, never a retry. */
  specDigest: string;
  /** How it is deployed: wait, timeout, tests, rollback (unset when the spec did not read). */
  options?: ReleaseOptions;
  /** Set when the release could not render (only with `isolateReleases`). */
  failure?: {
    message: string;
    /** A reason more precise than the phase (CrossNamespaceRefNotAllowed). */
    reason?: string;
    /** The commit's fault (a bad spec, a missing chart) rather than a network's. */ terminal: boolean;
    /** Not attempted this time: the release is waiting out its retry backoff (see deferRelease). */
    deferred?: boolean;
  };
}

/** Labels naming the HelmRelease an object was rendered from (Flux v2 has the same pair). */
export const HELMRELEASE_NAME_LABEL = 'capstan.dev/helmrelease-name';
export const HELMRELEASE_NAMESPACE_LABEL = 'capstan.dev/helmrelease-namespace';

/**
 * Labelled with their HelmRelease; with Flux v1's `forceUpgrade`, also marked for recreation when
 * an immutable field changes (Helm's `--force`), which the applier honours per object.
 */
function labelled(
  objects: RenderedObject[],
  release: { namespace: string; name: string },
  forceUpgrade = false,
): RenderedObject[] {
  return objects.map((s) => ({
    ...s,
    object: {
      ...s.object,
      metadata: {
        ...s.object.metadata,
        labels: {
          ...(s.object.metadata.labels ?? {}),
          [HELMRELEASE_NAME_LABEL]: release.name,
          [HELMRELEASE_NAMESPACE_LABEL]: release.namespace,
        },
        ...(forceUpgrade
          ? { annotations: { ...(s.object.metadata.annotations ?? {}), [FORCE_ANNOTATION]: 'enabled' } }
          : {}),
      },
    },
  }));
}

function ignoredObject(s: RenderedObject): RenderedObject {
  return {
    ...s,
    object: {
      ...s.object,
      metadata: {
        ...s.object.metadata,
        annotations: { ...(s.object.metadata.annotations ?? {}), [FLUX_IGNORE_ANNOTATION]: 'true' },
      },
    },
  };
}

/** A release's failure in one line: the message names its file, the URL and the cause. */
function releaseFailure(e: unknown): NonNullable<ReleaseResult['failure']> {
  if (e instanceof CrossNamespaceRefError) return { message: e.message, terminal: true, reason: e.reason };
  if (e instanceof RenderError) return { message: e.message, terminal: true };
  const parts: string[] = [];
  for (let cause: unknown = e; cause instanceof Error && parts.length < 4; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    parts.push(
      typeof code === 'string' && !cause.message.includes(code)
        ? `${cause.message} (${code})`
        : cause.message,
    );
  }
  return { message: parts.join(': ') || String(e), terminal: false };
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

  const budget = new RenderBudget(input.limits ?? DEFAULT_RENDER_LIMITS);
  assertNoOversizedYaml(rel, input.oversized, budget);
  const declared: SourcedObject[] = [];
  for (const entry of await scanFolder(input.root, rel)) {
    if (entry.kind === 'kustomization')
      declared.push(
        ...(await kustomizeBuild(input.kustomize, input.root, entry.path, budget, {
          ...(input.kustomizeRemoteBases ? { remoteBases: true } : {}),
          ...(input.remoteFetch ? { remoteFetch: input.remoteFetch } : {}),
          ...(input.oversized ? { oversized: input.oversized } : {}),
        })),
      );
    else declared.push(...(await readManifest(input.root, entry.path, budget)));
  }

  const scratch = await mkdtemp(join(tmpdir(), 'capstan-render-'));
  input = { ...input, dependencies: input.dependencies ?? new ChartDependencies(input.helm) };
  try {
    const expanded: RenderedObject[] = [];
    const hooks: HookGroups = { pre: [], post: [] };
    const inheritedNeverPrune: RenderedObject[] = [];
    const releases: ReleaseResult[] = [];
    const releaseObjects: SourcedObject[] = [];
    for (const s of declared) {
      if (!isHelmRelease(s)) {
        expanded.push(s);
        continue;
      }
      const ignored = policyOf(s.object) === 'skip';
      const name = {
        namespace: s.object.metadata.namespace ?? input.defaultNamespace,
        name: s.object.metadata.name,
      };
      let release: ReleaseSpec;
      let split: ReturnType<typeof splitHooks>;
      let identity: Pick<ReleaseResult, 'chart' | 'valuesDigest'>;
      let releaseName: string | undefined;
      const specDigest = digestOf(s.object['spec']);
      const deferred =
        ignored || !input.isolateReleases ? undefined : input.deferRelease?.({ ...name, specDigest });
      if (deferred !== undefined) {
        const spec = (() => {
          try {
            return readReleaseSpec(s, input.defaultNamespace);
          } catch {
            return undefined;
          }
        })();
        releases.push({
          apiVersion: s.object.apiVersion,
          ...name,
          origin: s.origin,
          specDigest,
          failure: { message: deferred, terminal: false, deferred: true },
          ...(spec ? { releaseName: spec.releaseName } : {}),
        });
        if (spec) releaseObjects.push(s);
        continue;
      }
      try {
        release = readReleaseSpec(s, input.defaultNamespace);
        releaseName = release.releaseName;
        const rendered = await renderRelease(input, release, scratch, budget);
        identity = { chart: rendered.chart, valuesDigest: rendered.valuesDigest };
        split = splitHooks(
          await defaultNamespaces(
            labelled(rendered.objects, name, release.options.forceUpgrade),
            release.targetNamespace,
            input.isNamespaced,
          ),
          release.releaseName,
          release.hooks,
        );
      } catch (e) {
        // An ignored release that cannot render stays out, as it always did.
        if (ignored) {
          expanded.push(s);
          continue;
        }
        if (!input.isolateReleases) throw e;
        releases.push({
          apiVersion: s.object.apiVersion,
          ...name,
          origin: s.origin,
          specDigest,
          failure: releaseFailure(e),
          ...(releaseName === undefined ? {} : { releaseName }),
        });
        // A release whose spec reads well exists in the cluster even when its chart failed, so its
        // status can say why; one with a bad spec stays out (the API server might refuse it).
        if (releaseName !== undefined) releaseObjects.push(s);
        continue;
      }
      if (ignored) {
        // fluxcd.io/ignore on a HelmRelease leaves what it rendered alone: listed as skipped,
        // so prune sees it is still declared and never deletes it.
        expanded.push(s, ...split.objects.map(ignoredObject));
        continue;
      }
      releases.push({
        apiVersion: s.object.apiVersion,
        ...name,
        origin: s.origin,
        specDigest,
        options: release.options,
        releaseName: release.releaseName,
        ...identity,
        ...(release.serviceAccountName ? { serviceAccountName: release.serviceAccountName } : {}),
      });
      releaseObjects.push(s);
      expanded.push(...split.objects);
      hooks.pre.push(...split.hooks.pre);
      hooks.post.push(...split.hooks.post);
      if (split.hooks.tests) (hooks.tests ??= []).push(...split.hooks.tests);
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
      releases,
      releaseObjects,
      skipped: split.skipped,
      neverPrune: split.neverPrune,
      ignored: split.ignored,
      // Releases render in file order; within the whole set Helm's weight order decides.
      hooks: {
        pre: sortHooks(hooks.pre.filter(notSkipped)),
        post: sortHooks(hooks.post.filter(notSkipped)),
        // Tests stay grouped by release, each release's in weight order.
        ...(hooks.tests ? { tests: hooks.tests.filter(notSkipped) } : {}),
      },
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function notSkipped(s: SourcedObject): boolean {
  return policyOf(s.object) !== 'skip';
}

async function readManifest(root: string, path: string, budget: RenderBudget): Promise<SourcedObject[]> {
  // Checked before reading: a working tree (capstan diff) is not filtered by the mirror.
  budget.checkFile(path, (await stat(join(root, path))).size);
  const content = await readFile(join(root, path), 'utf8');
  budget.addBytes(path, Buffer.byteLength(content));
  try {
    const objects = parseManifests([{ path, content }], budget.yaml);
    budget.addDocuments(path, objects.length);
    return objects;
  } catch (e) {
    if (e instanceof ManifestError) throw manifestToRenderError(e);
    throw e;
  }
}

/**
 * Files over maxFileBytes are not on disk (see RepoFile.oversized); one the Sync's path would
 * read as YAML must fail the build by name rather than go missing.
 */
function assertNoOversizedYaml(
  rel: string,
  oversized: ReadonlyMap<string, number> | undefined,
  budget: RenderBudget,
): void {
  for (const [path, size] of oversized ?? []) {
    const under = rel === '' || path.startsWith(`${rel}/`);
    if (under && /(\.ya?ml|\/Kustomization|^Kustomization)$/i.test(path))
      throw fileTooLarge(path, size, budget.limits.maxFileBytes);
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
