import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GitOperationError, sourceUrlProblem, type GitCredentials, type GitMirror } from '@capstan/git';
import { ChartNotFoundError } from './chart-fetcher.js';
import { normalizeGitUrl } from './helm-release.js';
import { materialize } from './repository.js';

/** A repository at a commit, written to disk; `release` when done reading it. */
export interface GitCheckout {
  root: string;
  sha: string;
  release(): void;
}

/**
 * Repositories at a ref, for Flux v1 charts that live outside the synced commit. A ref that does
 * not exist throws ChartNotFoundError (the manifest's fault); an unreachable remote a plain error.
 */
export interface GitChartSource {
  checkout(url: string, ref: string): Promise<GitCheckout>;
}

export interface GitChartCheckoutsOptions {
  /** Commits kept on disk across renders. */
  keep?: number;
  /** A branch is fetched again only after this long: hundreds of Syncs render the same chart. */
  refetchAfterMs?: number;
  now?: () => number;
}

interface Entry {
  root: Promise<string>;
  users: number;
  evicted: boolean;
}

/**
 * Flux's Helm Operator kept a mirror of each chart repository and exported the ref it was asked
 * for; so does this, through the GitMirror (bare mirrors, fetched incrementally) and one checkout
 * per commit in `dir`, shared by every render that asks for it.
 */
export class GitChartCheckouts {
  private readonly entries = new Map<string, Entry>();
  private readonly fetched = new Map<string, { at: number; done: Promise<unknown> }>();

  constructor(
    private readonly mirror: GitMirror,
    private readonly dir: string,
    private readonly options: GitChartCheckoutsOptions = {},
  ) {}

  /**
   * The source for one Sync: the GitRepository's credentials go only to that same repository over
   * the same protocol, never to another host a manifest names.
   */
  forRepository(syncedUrl: string | undefined, credentials?: GitCredentials): GitChartSource {
    return {
      checkout: (url, ref) =>
        this.checkout(
          url,
          ref,
          credentials && syncedUrl !== undefined && sameCredentialScope(url, syncedUrl)
            ? credentials
            : undefined,
        ),
    };
  }

  private async checkout(url: string, ref: string, credentials?: GitCredentials): Promise<GitCheckout> {
    const sha = await this.resolve(url, ref, credentials);
    const key = `${url}@${sha}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const created: Entry = { root: this.write(url, sha), users: 0, evicted: false };
      entry = created;
      this.entries.set(key, created);
      created.root.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      this.evict(key);
    }
    entry.users++;
    const held = entry;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.evicted && held.users === 0) void remove(held);
    };
    try {
      return { root: await held.root, sha, release };
    } catch (e) {
      release();
      throw e;
    }
  }

  private async resolve(url: string, ref: string, credentials?: GitCredentials): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    const last = this.fetched.get(url);
    const pinned = /^[0-9a-f]{40}$/.test(ref);
    const have = pinned
      ? await this.mirror.commit(url, ref).then(
          () => true,
          () => false,
        )
      : false;
    if (!have && (!last || now - last.at >= (this.options.refetchAfterMs ?? 30_000))) {
      const done = this.mirror.fetch(url, credentials ? { credentials } : {});
      this.fetched.set(url, { at: now, done });
      done.catch(() => this.fetched.delete(url));
      await done;
    } else if (last) await last.done;
    try {
      return await this.mirror.resolveRevision(url, ref);
    } catch (e) {
      if (e instanceof GitOperationError && e.operation === 'resolve') throw new ChartNotFoundError(e.detail);
      throw e;
    }
  }

  private async write(url: string, sha: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    // A folder per entry: an evicted checkout still being removed never meets its successor.
    const prefix = `${createHash('sha256').update(url).digest('hex').slice(0, 16)}-${sha.slice(0, 12)}-`;
    const root = await mkdtemp(join(this.dir, prefix));
    try {
      await materialize(await this.mirror.readTree(url, sha, '', () => true), root);
    } catch (e) {
      await rm(root, { recursive: true, force: true });
      throw e;
    }
    return root;
  }

  private evict(keep: string): void {
    const limit = this.options.keep ?? 8;
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= limit) break;
      if (key === keep) continue;
      this.entries.delete(key);
      entry.evicted = true;
      if (entry.users === 0) void remove(entry);
    }
  }
}

/**
 * Why a manifest may not name this chart repository, if it may not. A HelmRelease in Git must not
 * make the reconciler run a git transport helper (`ext::` runs commands) or read repositories on
 * its own disk (other tenants' mirrors) unless the synced repository is itself local.
 */
export function chartUrlProblem(
  url: string,
  syncedUrl: string | undefined,
  schemes?: readonly string[],
): string | undefined {
  const trimmed = url.trim();
  if (trimmed.startsWith('-')) return 'not a valid repository URL';
  if (/^[a-z][a-z0-9+.-]*::/i.test(trimmed)) return 'git transport helpers (<transport>::) are not allowed';
  if (schemes !== undefined) {
    const problem = sourceUrlProblem(trimmed, schemes);
    if (problem !== undefined) return problem;
  }
  if (protocolOf(trimmed) === 'file' && (syncedUrl === undefined || protocolOf(syncedUrl) !== 'file'))
    return "a repository on the reconciler's disk is only read when the synced repository is local too";
  return undefined;
}

/** Same repository and same protocol family (an https token never goes out over plain http). */
export function sameCredentialScope(a: string, b: string): boolean {
  return normalizeGitUrl(a) === normalizeGitUrl(b) && protocolOf(a) === protocolOf(b);
}

function protocolOf(url: string): string {
  const scheme = /^([a-z+]+):\/\//i.exec(url.trim())?.[1]?.toLowerCase();
  if (scheme === undefined) return /^[^/]+:/.test(url.trim()) ? 'ssh' : 'file';
  return scheme === 'git+ssh' || scheme === 'ssh+git' ? 'ssh' : scheme;
}

async function remove(entry: Entry): Promise<void> {
  const root = await entry.root.catch(() => undefined);
  if (root) await rm(root, { recursive: true, force: true });
}
