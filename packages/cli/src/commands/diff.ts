import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { GitMirror } from '@capstan/git';
import {
  CapstanResources,
  ObjectApi,
  ServerSideApplier,
  isNotFound,
  type PlannedChange,
  type Sync,
} from '@capstan/kube';
import {
  comparable,
  describeObject,
  inventoryEntry,
  maskSecrets,
  staleObjects,
  unifiedDiff,
  type GitRef,
  type KubeObject,
  type SourcedObject,
} from '@capstan/gitops-core';
import { GitChartCheckouts, HttpChartFetcher, KubeValuesSource, materialize, render } from '@capstan/render';

export interface DiffEntry {
  object: string;
  action: 'created' | 'changed' | 'deleted';
  diff: string;
}

export interface DiffRequest {
  namespace: string;
  name: string;
  /** A local folder holding what the Sync's path would hold. */
  path?: string;
  /** A branch, tag or commit of the Sync's repository; default: the revision it follows. */
  ref?: string;
  fieldManager: string;
  cacheDir: string;
  helm: string;
  kustomize: string;
}

/**
 * What reconciling would change: the same render the reconciler runs, a server-side dry-run of
 * every object compared with the live one, and what prune would delete.
 */
export async function diffSync(kc: KubeConfig, req: DiffRequest): Promise<DiffEntry[]> {
  const resources = new CapstanResources(kc);
  const api = ObjectApi.fromKubeConfig(kc);
  const sync = await resources.get('Sync', req.namespace, req.name);
  const objects = await build(kc, api, resources, sync, req);
  const labels = {
    'capstan.dev/sync-name': sync.metadata.name,
    'capstan.dev/sync-namespace': sync.metadata.namespace,
  };
  const planned = await new ServerSideApplier(api).plan(objects, {
    fieldManager: req.fieldManager,
    defaultNamespace: sync.spec.targetNamespace ?? 'default',
    ...(sync.spec.targetNamespace ? { targetNamespace: sync.spec.targetNamespace } : {}),
    force: sync.spec.force === true,
    labels,
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
  return entries;
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
  const masked = maskSecrets(before ? comparable(before) : undefined, after ? comparable(after) : undefined);
  const text = (o: unknown) => (o === undefined ? '' : stringify(o, { sortMapEntries: true }));
  return unifiedDiff(text(masked.before), text(masked.after));
}

async function build(
  kc: KubeConfig,
  api: ObjectApi,
  resources: CapstanResources,
  sync: Sync,
  req: DiffRequest,
): Promise<SourcedObject[]> {
  const common = {
    defaultNamespace: sync.spec.targetNamespace ?? 'default',
    values: new KubeValuesSource(kc),
    charts: new HttpChartFetcher(join(req.cacheDir, 'charts')),
    helm: req.helm,
    kustomize: req.kustomize,
    isNamespaced: (apiVersion: string, kind: string) => api.isNamespaced(apiVersion, kind),
  };
  if (req.path) {
    const rendered = await render({ ...common, root: resolve(req.path), path: undefined });
    return [...rendered.hooks.pre, ...rendered.objects, ...rendered.hooks.post];
  }
  const repo = await resources.get(
    'GitRepository',
    sync.spec.sourceRef.namespace ?? sync.metadata.namespace,
    sync.spec.sourceRef.name,
  );
  const mirror = new GitMirror(join(req.cacheDir, 'git'));
  await mirror.fetch(repo.spec.url);
  const sha = await resolveRef(mirror, repo.spec.url, req.ref, repo.status?.artifact?.sha, repo.spec.ref);
  const files = await mirror.readTree(repo.spec.url, sha, '', () => true);
  const root = await mkdtemp(join(tmpdir(), 'capstan-diff-'));
  try {
    await materialize(files, root);
    const repositoryRef = refName(req.ref, repo.spec.ref);
    const rendered = await render({
      ...common,
      root,
      path: sync.spec.path,
      repositoryUrl: repo.spec.url,
      repositorySha: sha,
      ...(repositoryRef === undefined ? {} : { repositoryRef }),
      // Flux v1 charts on other refs or repositories, as the reconciler renders them.
      gitCharts: new GitChartCheckouts(mirror, join(req.cacheDir, 'git-charts')).forRepository(repo.spec.url),
    });
    return [...rendered.hooks.pre, ...rendered.objects, ...rendered.hooks.post];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** The branch or tag the diffed commit comes from, when it has one (a Flux v1 chart.ref naming it renders from it). */
function refName(ref: string | undefined, followed: GitRef | undefined): string | undefined {
  if (ref !== undefined) return ref;
  if (followed?.commit) return followed.commit;
  if (followed?.semver) return undefined;
  return followed?.tag ?? followed?.branch ?? 'main';
}

async function resolveRef(
  mirror: GitMirror,
  url: string,
  ref: string | undefined,
  artifactSha: string | undefined,
  followed: { branch?: string; tag?: string; commit?: string } | undefined,
): Promise<string> {
  if (ref === undefined) return artifactSha ?? mirror.resolve(url, followed ?? { branch: 'main' });
  if (/^[0-9a-f]{40}$/.test(ref)) return mirror.resolve(url, { commit: ref });
  return mirror.resolve(url, { branch: ref }).catch(() => mirror.resolve(url, { tag: ref }));
}
