import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { buildIgnore, CAPSTANIGNORE, type GitCredentials, type GitMirror } from '@capstan/git';
import {
  ChartDependencies,
  GitChartCheckouts,
  materialize,
  render,
  type ChartFetcher,
  type RenderResult,
  type ValuesSource,
} from '@capstan/render';

export interface SyncBuildRequest {
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
}

export interface SyncBuilderOptions {
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
}

interface Checkout {
  root: Promise<string>;
  users: number;
  evicted: boolean;
}

/**
 * The build phase. A Sync path may use bases and charts anywhere in the repository, so the whole
 * repository at the commit is written to disk, once per commit (and ignore rules) however many
 * Syncs render from it: with hundreds of Syncs on one repository, a checkout per Sync made the
 * build grow with N². Checkouts are removed when evicted and unused. Renders only read them, with
 * one exception: `helm dependency build` of a chart that needs it writes its charts/ folder, once
 * per checkout (ChartDependencies serializes it), so the same commit never rebuilds per Sync.
 */
export class SyncBuilder {
  private readonly checkouts = new Map<string, Checkout>();
  private readonly dependencies: ChartDependencies;
  private readonly gitCharts: GitChartCheckouts;

  constructor(
    private readonly mirror: GitMirror,
    private readonly values: ValuesSource,
    private readonly charts: ChartFetcher,
    private readonly options: SyncBuilderOptions,
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

  async build(request: SyncBuildRequest): Promise<RenderResult> {
    const checkout = this.acquire(request);
    const refName = request.revision?.includes('@sha1:') ? request.revision.split('@sha1:')[0] : undefined;
    try {
      return await render({
        root: await checkout.root,
        path: request.path,
        defaultNamespace: request.defaultNamespace,
        repositoryUrl: request.url,
        repositorySha: request.sha,
        // A commit-pinned source has no ref name: only a chart.ref naming the commit is "this commit".
        ...(request.revision === undefined ? {} : { repositoryRef: refName || request.sha }),
        gitCharts: this.gitCharts.forRepository(request.url, request.credentials),
        dependencies: this.dependencies,
        values: this.values,
        charts: this.charts,
        helm: this.options.helm,
        kustomize: this.options.kustomize,
        ...(this.options.isNamespaced ? { isNamespaced: this.options.isNamespaced } : {}),
      });
    } finally {
      await this.release(checkout);
    }
  }

  private acquire(request: SyncBuildRequest): Checkout {
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

  private async write(request: SyncBuildRequest): Promise<string> {
    const files = await this.mirror.readTree(request.url, request.sha, '', () => true);
    const capstanignore = files.find((f) => f.path === CAPSTANIGNORE)?.content.toString('utf8');
    const ignored = buildIgnore(request.ignore, capstanignore);
    const root = await mkdtemp(join(tmpdir(), 'capstan-build-'));
    try {
      await materialize(
        files.filter((f) => !ignored(f.path)),
        root,
      );
    } catch (e) {
      await rm(root, { recursive: true, force: true });
      throw e;
    }
    return root;
  }
}

async function remove(checkout: Checkout): Promise<void> {
  const root = await checkout.root.catch(() => undefined);
  if (root) await rm(root, { recursive: true, force: true });
}
