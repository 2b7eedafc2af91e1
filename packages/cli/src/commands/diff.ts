import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { GitContentError, GitMirror } from '@capstan/git';
import {
  ApplyRejectedError,
  CapstanResources,
  ObjectApi,
  ServerSideApplier,
  isNotFound,
  type PlannedChange,
  type Sync,
} from '@capstan/kube';
import {
  ManifestError,
  comparable,
  describeObject,
  formatRevision,
  inventoryEntry,
  redactPair,
  redactSecrets,
  secretValuesOf,
  staleObjects,
  unifiedDiff,
  type GitRef,
  type KubeObject,
  type SourcedObject,
  type UrlRewrites,
} from '@capstan/gitops-core';
import {
  CommitRenderer,
  HttpChartFetcher,
  KubeValuesSource,
  RenderError,
  render,
  type RenderResult,
} from '@capstan/render';

export interface DiffEntry {
  object: string;
  action: 'created' | 'changed' | 'deleted';
  diff: string;
}

/** What the diff found: the changes, and HelmReleases the reconciler would leave out (the rest still applies). */
export interface DiffResult {
  entries: DiffEntry[];
  /** Each release that would fail on its own, named with its file and cause. */
  failedReleases: string[];
}

/**
 * The reconciler would refuse this revision as a whole (a file that does not build, a kind the
 * API server does not serve, an object the dry-run rejects): its failed decision, predicted.
 */
export class WouldFailError extends Error {
  override readonly name = 'WouldFailError';
}

export interface DiffRequest {
  namespace: string;
  name: string;
  /** A local folder holding what the Sync's path would hold. */
  path?: string;
  /** A branch, tag or commit of the Sync's repository; default: the revision it follows. */
  ref?: string;
  /** A local clone of the Sync's repository: its working tree, uncommitted files included. */
  workingTree?: string;
  fieldManager: string;
  /** Where public Git and chart URLs are really fetched from, as the reconciler does (urlRewrites). */
  urlRewrites?: UrlRewrites;
  cacheDir: string;
  helm: string;
  kustomize: string;
}

/**
 * What reconciling would change: the same render the reconciler runs (CommitRenderer, each
 * HelmRelease on its own), the same validation (every kind served), a server-side dry-run of
 * every object compared with the live one, and what prune would delete. What the reconciler
 * would refuse as a whole throws WouldFailError; a HelmRelease it would leave out is reported
 * in `failedReleases`, as the rest would still apply.
 */
export async function diffSync(kc: KubeConfig, req: DiffRequest): Promise<DiffResult> {
  const resources = new CapstanResources(kc);
  const api = ObjectApi.fromKubeConfig(kc);
  const sync = await resources.get('Sync', req.namespace, req.name);
  const rendered = await build(kc, api, resources, sync, req).catch((e: unknown) => {
    if (e instanceof RenderError || e instanceof ManifestError || e instanceof GitContentError)
      throw new WouldFailError(`build: ${e.message}`);
    throw e;
  });
  const objects = applySet(rendered);
  const labels = {
    'capstan.dev/sync-name': sync.metadata.name,
    'capstan.dev/sync-namespace': sync.metadata.namespace,
  };
  const applier = new ServerSideApplier(api);
  // The API server's answers may quote a value ("Invalid value: ..."): masked like the reconciler's.
  const known = secretValuesOf(objects.map((o) => o.object));
  const planned = await applier
    .validate(objects)
    .then(() =>
      applier.plan(objects, {
        fieldManager: req.fieldManager,
        defaultNamespace: sync.spec.targetNamespace ?? 'default',
        ...(sync.spec.targetNamespace ? { targetNamespace: sync.spec.targetNamespace } : {}),
        force: sync.spec.force === true,
        labels,
      }),
    )
    .catch((e: unknown) => {
      if (e instanceof Error) e.message = redactSecrets(e.message, known);
      // The API server's verdict on objects is the reconciler's too; a connection error is not.
      if (e instanceof ApplyRejectedError)
        throw new WouldFailError(`${e.validation ? 'validate' : 'dry-run'}: ${e.message}`);
      throw e;
    });
  const entries = planned.flatMap((p) => entryOf(p));
  if (sync.spec.prune !== false) {
    const next = planned.map((p) => inventoryEntry(p.item.object));
    for (const ref of staleObjects(sync.status?.inventory?.entries ?? [], next)) {
      let live: KubeObject;
      try {
        const raw: unknown = await api.read(ref);
        live = raw as KubeObject;
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      const owned = Object.entries(labels).every(([k, v]) => live.metadata.labels?.[k] === v);
      if (!owned) continue;
      entries.push({ object: describeObject(ref), action: 'deleted', diff: yamlDiff(live, undefined) });
    }
  }
  const failedReleases = rendered.releases.flatMap((r) =>
    r.failure
      ? [
          `HelmRelease ${r.namespace}/${r.name} (${r.origin.file}): ${r.failure.message}${r.failure.terminal ? '' : ' (the reconciler retries it)'}`,
        ]
      : [],
  );
  return { entries, failedReleases };
}

/** Unified-diff-like text, one block per object. Pure. */
export function renderDiff(entries: readonly DiffEntry[]): string {
  if (entries.length === 0) return 'No changes.';
  const label = { created: 'created', changed: 'changed', deleted: 'deleted (prune)' } as const;
  return entries.map((e) => `► ${e.object} ${label[e.action]}\n--- live\n+++ git\n${e.diff}`).join('\n');
}

function entryOf(p: PlannedChange): DiffEntry[] {
  const object = describeObject(p.item.object);
  switch (p.action) {
    case 'unchanged':
    case 'skipped':
      return [];
    case 'created':
    case 'deferred':
      return [{ object, action: 'created', diff: yamlDiff(undefined, p.dryRun ?? p.item.object) }];
    case 'configured':
      return [{ object, action: 'changed', diff: yamlDiff(p.live, p.dryRun) }];
    case 'recreated':
      return [
        {
          object,
          action: 'changed',
          diff: `# immutable field changed: the object is recreated\n${yamlDiff(p.live, p.item.object)}`,
        },
      ];
  }
}

function yamlDiff(before: unknown, after: unknown): string {
  const masked = redactPair(before ? comparable(before) : undefined, after ? comparable(after) : undefined);
  const text = (o: unknown) => (o === undefined ? '' : stringify(o, { sortMapEntries: true }));
  return unifiedDiff(text(masked.before), text(masked.after));
}

async function build(
  kc: KubeConfig,
  api: ObjectApi,
  resources: CapstanResources,
  sync: Sync,
  req: DiffRequest,
): Promise<RenderResult> {
  const defaultNamespace = sync.spec.targetNamespace ?? 'default';
  const rewrites = req.urlRewrites ?? {};
  const charts = new HttpChartFetcher(join(req.cacheDir, 'charts'), undefined, rewrites);
  if (req.path) {
    return render({
      root: resolve(req.path),
      path: undefined,
      defaultNamespace,
      values: new KubeValuesSource(kc),
      charts,
      helm: req.helm,
      kustomize: req.kustomize,
      isolateReleases: true,
      isNamespaced: (apiVersion: string, kind: string) => api.isNamespaced(apiVersion, kind),
    });
  }
  const repo = await resources.get(
    'GitRepository',
    sync.spec.sourceRef.namespace ?? sync.metadata.namespace,
    sync.spec.sourceRef.name,
  );
  const mirror = new GitMirror(join(req.cacheDir, 'git'), undefined, rewrites);
  // The reconciler's own recipe (ignore rules, Flux v1 charts, chart dependencies).
  const renderer = new CommitRenderer(mirror, new KubeValuesSource(kc), charts, {
    helm: req.helm,
    kustomize: req.kustomize,
    isNamespaced: (apiVersion: string, kind: string) => api.isNamespaced(apiVersion, kind),
    gitChartDir: join(req.cacheDir, 'git-charts'),
    dependencyCacheDir: join(req.cacheDir, 'chart-dependencies'),
    keepCheckouts: 1,
  });
  const common = {
    url: repo.spec.url,
    path: sync.spec.path,
    defaultNamespace,
    ...(repo.spec.ignore ? { ignore: repo.spec.ignore } : {}),
    isolateReleases: true,
  };
  if (req.workingTree) return renderer.renderWorkingTree({ ...common, dir: resolve(req.workingTree) });
  await mirror.fetch(repo.spec.url);
  const sha = await resolveRef(mirror, repo.spec.url, req.ref, repo.status?.artifact?.sha, repo.spec.ref);
  const name = refName(req.ref, repo.spec.ref);
  return renderer.render({
    ...common,
    sha,
    revision:
      name === undefined || name === sha ? formatRevision({}, sha) : formatRevision({ branch: name }, sha),
  });
}

/**
 * What the reconciler's plan dry-runs: objects, opted-out ones (reported skipped) and the
 * HelmRelease objects themselves. Helm hooks are not part of it: the reconciler runs them (delete,
 * then create) only when their release changes, so a hook Job's immutable template is no refusal.
 */
function applySet(rendered: RenderResult): SourcedObject[] {
  return [...rendered.objects, ...rendered.releaseObjects, ...rendered.skipped];
}

/** The branch or tag the diffed commit comes from, when it has one (a Flux v1 chart.ref naming it renders from it). */
function refName(ref: string | undefined, followed: GitRef | undefined): string | undefined {
  if (ref !== undefined) return ref;
  if (followed?.commit) return followed.commit;
  if (followed?.semver) return undefined;
  // No ref: the remote's default branch, whose name the mirror knows (not needed to render).
  return followed?.tag ?? followed?.branch;
}

async function resolveRef(
  mirror: GitMirror,
  url: string,
  ref: string | undefined,
  artifactSha: string | undefined,
  followed: { branch?: string; tag?: string; commit?: string } | undefined,
): Promise<string> {
  if (ref === undefined) return artifactSha ?? mirror.resolve(url, followed ?? {});
  if (/^[0-9a-f]{40}$/.test(ref)) return mirror.resolve(url, { commit: ref });
  return mirror.resolve(url, { branch: ref }).catch(() => mirror.resolve(url, { tag: ref }));
}
