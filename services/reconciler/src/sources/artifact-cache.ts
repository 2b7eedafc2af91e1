import type { CommitInfo, FetchOptions, GitMirror } from '@capstan/git';

/**
 * Fetches each repository once per commit, however many Syncs follow it: when a commit lands,
 * hundreds of Syncs reconcile it, and one `git fetch` brings it for all of them. Concurrent
 * callers for the same commit share one promise; a failed fetch is forgotten so it is retried.
 */
export class ArtifactCache {
  private readonly commits = new Map<string, Promise<void>>();
  private readonly fetches = new Map<string, Promise<unknown>>();
  private readonly infos = new Map<string, Promise<CommitInfo>>();

  constructor(private readonly mirror: GitMirror) {}

  ensure(url: string, sha: string, options: FetchOptions = {}): Promise<void> {
    const key = `${url}@${sha}`;
    let pending = this.commits.get(key);
    if (!pending) {
      pending = this.bring(url, sha, options);
      this.commits.set(key, pending);
      pending.catch(() => this.commits.delete(key));
      // Bounded: only recent commits matter; older ones cost one cheap check if asked for again.
      if (this.commits.size > 1_000) this.commits.delete(this.commits.keys().next().value ?? key);
    }
    return pending;
  }

  /** Author, committer and message of a commit, read once (every Sync's decision carries them). */
  async commit(url: string, sha: string, options: FetchOptions = {}): Promise<CommitInfo> {
    const key = `${url}@${sha}`;
    let info = this.infos.get(key);
    if (!info) {
      info = this.ensure(url, sha, options).then(() => this.mirror.commit(url, sha));
      this.infos.set(key, info);
      info.catch(() => this.infos.delete(key));
      if (this.infos.size > 1_000) this.infos.delete(this.infos.keys().next().value ?? key);
    }
    return info;
  }

  private async bring(url: string, sha: string, options: FetchOptions): Promise<void> {
    if (await this.has(url, sha)) return;
    await this.fetchShared(url, options);
    // A fetch that started before the commit was pushed may miss it: fetch once more.
    if (!(await this.has(url, sha))) await this.mirror.fetch(url, options);
  }

  private fetchShared(url: string, options: FetchOptions): Promise<unknown> {
    let f = this.fetches.get(url);
    if (!f) {
      f = this.mirror.fetch(url, options).finally(() => this.fetches.delete(url));
      this.fetches.set(url, f);
    }
    return f;
  }

  private has(url: string, sha: string): Promise<boolean> {
    return this.mirror.commit(url, sha).then(
      () => true,
      () => false,
    );
  }
}
