import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { buildIgnore, CAPSTANIGNORE, type GitCredentials, type GitMirror } from '@capstan/git';
import { parseRevision } from '@capstan/gitops-core';
import type { ChartFetcher } from './chart-fetcher.js';
import { ChartDependencies } from './chart-dependencies.js';
import type { RemoteFetchGuardOptions } from './remote-fetch-guard.js';
import { GitChartCheckouts } from './git-charts.js';
import type { RenderLimits } from './limits.js';
import { materialize, oversizedFiles } from './repository.js';
import { render, type RenderInput, type RenderResult } from './render.js';
import type { UrlValuesSource } from './url-values.js';
import type { ValuesSource } from './values-source.js';

export interface CommitRenderRequest {
  url: string;
  sha: string;
  path: string | undefined;
  /** Where objects without a namespace go (the Sync's targetNamespace). */
  defaultNamespace: string;
  /** The GitRepository's ignore rules (gitignore syntax), on top of the repo's `.capstanignore`. */
  ignore?: string;
  /** `<branch or tag>@sha1:<sha>`: a Flux v1 chart.ref naming that branch or tag renders from this commit. */
  revision?: string;
  /** The GitRepository's credentials, reused for Flux v1 charts from that same repository only. */
  credentials?: GitCredentials;
  /** A HelmRelease that fails leaves the rest of the set standing (see RenderInput). */
  isolateReleases?: boolean;
  /** Per-tenant valuesFrom reads and the cross-namespace switch (see RenderInput). */
  valuesFor?: RenderInput['valuesFor'];
  allowCrossNamespaceRefs?: boolean;
  /** A release waiting out its own retry backoff is left out unfetched (see RenderInput). */
  deferRelease?: RenderInput['deferRelease'];
}

export interface WorkingTreeRenderRequest {
  /** A clone's working tree: the repository root on disk. */
  dir: string;
  /** The repository's URL, for Flux v1 charts that name it. */
  url: string;
  path: string | undefined;
  defaultNamespace: string;
  ignore?: string;
  credentials?: GitCredentials;
  isolateReleases?: boolean;
}

export interface CommitRendererOptions {
  helm: string;
  kustomize: string;
  isNamespaced?: (apiVersion: string, kind: string) => Promise<boolean | undefined>;
  /** Checkouts kept on disk; each is one commit of one repository. */
  keepCheckouts?: number;
  /** Where Flux v1 charts from other repositories or refs are checked out (a temp folder if unset). */
  gitChartDir?: string;
  /** How long a chart repository's branch is trusted before it is fetched again. */
  gitChartRefetchMs?: number;
  /** Where dependency archives of charts pinned by a Chart.lock are kept across commits. */
  dependencyCacheDir?: string;
  /** Sizes and counts one render may reach. */
  limits?: RenderLimits;
  /** Let kustomizations name remote bases. */
  kustomizeRemoteBases?: boolean;
  /** How remote bases' fetches are fenced in (the bytes one build may bring in). */
  remoteFetch?: Partial<RemoteFetchGuardOptions>;
  /** Schemes a HelmRelease's `spec.chart.git` may use (the installation's source policy). */
  sourceSchemes?: readonly string[];
  /** Where `valuesFrom.externalSourceRef` is read (off unless given an allow-list). */
  urlValues?: UrlValuesSource;
}

interface Written {
  root: string;
  /** Files left off the disk for their size. */
  oversized: Map<string, number>;
}

interface Checkout {
  root: Promise<Written>;
  users: number;
  evicted: boolean;
}

/**
 * The build recipe, shared by the reconciler's build phase and `capstan diff`, so what the CLI
 * predicts is what the reconciler renders. A Sync path may use bases and charts anywhere in the repository, so the whole
 * repository at the commit is written to disk, once per commit (and ignore rules) however many
 * Syncs render from it: with hundreds of Syncs on one repository, a checkout per Sync made the
 * build grow with N². Checkouts are removed when evicted and unused. Renders only read them, with
 * one exception: ChartDependencies fills the charts/ folder of a chart that needs it, once
 * per checkout (ChartDependencies serializes it), so the same commit never rebuilds per Sync.
 */
export class CommitRenderer {
  private readonly checkouts = new Map<string, Checkout>();
  private readonly dependencies: ChartDependencies;
  private readonly gitCharts: GitChartCheckouts;

  constructor(
    private readonly mirror: GitMirror,
    private readonly values: ValuesSource,
    private readonly charts: ChartFetcher,
    private readonly options: CommitRendererOptions,
  ) {
    this.dependencies = new ChartDependencies(options.helm, {
      cacheDir: options.dependencyCacheDir ?? join(tmpdir(), `capstan-chart-dependencies-${process.pid}`),
    });
    this.gitCharts = new GitChartCheckouts(
      mirror,
      options.gitChartDir ?? join(tmpdir(), `capstan-git-charts-${process.pid}`),
      options.gitChartRefetchMs === undefined ? {} : { refetchAfterMs: options.gitChartRefetchMs },
    );
  }

  async render(request: CommitRenderRequest): Promise<RenderResult> {
    const checkout = this.acquire(request);
    const refName = request.revision === undefined ? undefined : parseRevision(request.revision)?.name;
    try {
      const written = await checkout.root;
      return await render({
        ...this.renderOptions(),
        root: written.root,
        oversized: written.oversized,
        path: request.path,
        defaultNamespace: request.defaultNamespace,
        repositoryUrl: request.url,
        repositorySha: request.sha,
        // A commit-pinned source has no ref name: only a chart.ref naming the commit is "this commit".
        ...(request.revision === undefined ? {} : { repositoryRef: refName || request.sha }),
        gitCharts: this.gitCharts.forRepository(request.url, request.credentials),
        dependencies: this.dependencies,
        ...(request.isolateReleases ? { isolateReleases: true } : {}),
        ...(request.deferRelease ? { deferRelease: request.deferRelease } : {}),
        values: this.values,
        ...(request.valuesFor ? { valuesFor: request.valuesFor } : {}),
        ...(request.allowCrossNamespaceRefs ? { allowCrossNamespaceRefs: true } : {}),
        charts: this.charts,
        helm: this.options.helm,
        kustomize: this.options.kustomize,
        ...(this.options.isNamespaced ? { isNamespaced: this.options.isNamespaced } : {}),
      });
    } finally {
      await this.release(checkout);
    }
  }

  /** The installation's limits and policies, the same for a commit and a working tree. */
  private renderOptions(): Partial<RenderInput> {
    const o = this.options;
    return {
      ...(o.limits ? { limits: o.limits } : {}),
      ...(o.kustomizeRemoteBases ? { kustomizeRemoteBases: true } : {}),
      ...(o.remoteFetch ? { remoteFetch: o.remoteFetch } : {}),
      ...(o.sourceSchemes ? { sourceSchemes: o.sourceSchemes } : {}),
      ...(o.urlValues ? { urlValues: o.urlValues } : {}),
    };
  }

  /**
   * `capstan diff --working-tree`: the Sync's path rendered from a local clone's working tree,
   * uncommitted files included, with the same ignore rules and chart sources as a commit.
   */
  async renderWorkingTree(request: WorkingTreeRenderRequest): Promise<RenderResult> {
    const files = await readWorkingTree(request.dir);
    const { root } = await this.materializeFiles(files, request.ignore);
    try {
      return await render({
        ...this.renderOptions(),
        root,
        path: request.path,
        defaultNamespace: request.defaultNamespace,
        repositoryUrl: request.url,
        gitCharts: this.gitCharts.forRepository(request.url, request.credentials),
        dependencies: this.dependencies,
        ...(request.isolateReleases ? { isolateReleases: true } : {}),
        values: this.values,
        charts: this.charts,
        helm: this.options.helm,
        kustomize: this.options.kustomize,
        ...(this.options.isNamespaced ? { isNamespaced: this.options.isNamespaced } : {}),
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }

  private acquire(request: CommitRenderRequest): Checkout {
    const key = `${request.url}@${request.sha}#${createHash('sha256')
      .update(request.ignore ?? '')
      .digest('hex')
      .slice(0, 12)}`;
    let checkout = this.checkouts.get(key);
    if (!checkout) {
      checkout = { root: this.write(request), users: 0, evicted: false };
      const created = checkout;
      this.checkouts.set(key, created);
      // A failed checkout is forgotten so the next build tries again.
      created.root.catch(() => {
        if (this.checkouts.get(key) === created) this.checkouts.delete(key);
      });
      this.evict(key);
    }
    checkout.users++;
    return checkout;
  }

  private async release(checkout: Checkout): Promise<void> {
    checkout.users--;
    if (checkout.evicted && checkout.users === 0) await remove(checkout);
  }

  private evict(keep: string): void {
    const limit = this.options.keepCheckouts ?? 4;
    for (const [key, checkout] of this.checkouts) {
      if (this.checkouts.size <= limit) break;
      if (key === keep) continue;
      this.checkouts.delete(key);
      checkout.evicted = true;
      if (checkout.users === 0) void remove(checkout);
    }
  }

  private async write(request: CommitRenderRequest): Promise<Written> {
    const files = await this.mirror.readTree(request.url, request.sha, '', () => true);
    return this.materializeFiles(files, request.ignore);
  }

  /** The files on disk in a fresh folder, less what the ignore rules leave out. */
  private async materializeFiles(
    files: readonly { path: string; content: Uint8Array; oversized?: number }[],
    ignore: string | undefined,
  ): Promise<Written> {
    const capstanignore = files.find((f) => f.path === CAPSTANIGNORE)?.content;
    const ignored = buildIgnore(
      ignore,
      capstanignore ? Buffer.from(capstanignore).toString('utf8') : undefined,
    );
    const root = await mkdtemp(join(tmpdir(), 'capstan-build-'));
    const kept = files.filter((f) => !ignored(f.path));
    try {
      await materialize(kept, root);
    } catch (e) {
      await rm(root, { recursive: true, force: true });
      throw e;
    }
    return { root, oversized: oversizedFiles(kept) };
  }
}

/** Every regular file of a working tree, repository-relative, `.git` left out. */
async function readWorkingTree(dir: string): Promise<{ path: string; content: Uint8Array }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: { path: string; content: Uint8Array }[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const path = relative(dir, full).split('\\').join('/');
    if (path === '.git' || path.startsWith('.git/')) continue;
    files.push({ path, content: await readFile(full) });
  }
  return files;
}

async function remove(checkout: Checkout): Promise<void> {
  const written = await checkout.root.catch(() => undefined);
  if (written) await rm(written.root, { recursive: true, force: true });
}
