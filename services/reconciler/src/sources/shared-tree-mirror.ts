import { GitMirror, type RepoFile } from '@capstan/git';

const KEEP_TREES = 4;

/**
 * A GitMirror that reads each tree once per commit. The build phase reads the whole repository
 * at the commit for every Sync (a path may use bases anywhere in it); with hundreds of Syncs on
 * one repository that is hundreds of identical reads, each a git process per file. Trees are
 * immutable per commit, so the first read serves all, and only the last few commits are kept.
 */
export class SharedTreeMirror extends GitMirror {
  private readonly trees = new Map<string, Promise<RepoFile[]>>();

  override async readTree(
    url: string,
    sha: string,
    path: string | undefined,
    include: (file: string) => boolean,
  ): Promise<RepoFile[]> {
    const key = `${url}@${sha}:${path ?? ''}`;
    let tree = this.trees.get(key);
    if (!tree) {
      tree = super.readTree(url, sha, path, () => true);
      this.trees.set(key, tree);
      tree.catch(() => this.trees.delete(key));
      while (this.trees.size > KEEP_TREES) this.trees.delete(this.trees.keys().next().value ?? key);
    }
    return (await tree).filter((f) => include(f.path));
  }
}
