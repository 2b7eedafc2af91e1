import { mkdir, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { GitRef } from '@capstan/gitops-core';
import { COMMIT_FORMAT, parseCommitRecord, type CommitInfo } from './commit.js';
import { GitContentError, GitOperationError } from './errors.js';
import { repoPath, resolveLink } from './paths.js';
import { gitEnv } from './git-env.js';

export interface RepoFile {
  path: string;
  content: string;
}

/**
 * A bare mirror per remote URL in a cache directory. Fetches are incremental; reads go straight
 * to the object database (no work tree), so many Syncs can read different commits at once.
 */
export class GitMirror {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly cacheDir: string,
    private readonly timeoutMs = 60_000,
  ) {}

  dirFor(url: string): string {
    return join(this.cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 24) + '.git');
  }

  /** Clones or fetches; serialized per URL because two fetches into one mirror would race. */
  async fetch(url: string): Promise<string> {
    const dir = this.dirFor(url);
    return this.serialized(dir, async () => {
      const exists = await stat(join(dir, 'HEAD')).then(
        () => true,
        () => false,
      );
      try {
        if (!exists) {
          await mkdir(this.cacheDir, { recursive: true });
          await rm(dir, { recursive: true, force: true });
          await this.git(this.cacheDir).clone(url, dir, ['--mirror', '--quiet']);
        } else {
          await this.git(dir).fetch([
            '--prune',
            '--quiet',
            '--force',
            'origin',
            '+refs/heads/*:refs/heads/*',
            '+refs/tags/*:refs/tags/*',
          ]);
        }
      } catch (e) {
        throw new GitOperationError(exists ? 'fetch' : 'clone', url, firstLine(e));
      }
      return dir;
    });
  }

  /** The commit a ref points at in the mirror. */
  async resolve(url: string, ref: GitRef): Promise<string> {
    const dir = this.dirFor(url);
    const spec = ref.commit ?? (ref.tag ? `refs/tags/${ref.tag}` : `refs/heads/${ref.branch ?? 'main'}`);
    try {
      return (await this.git(dir).revparse([`${spec}^{commit}`])).trim();
    } catch (e) {
      throw new GitOperationError('resolve', url, `ref ${spec} not found: ${firstLine(e)}`);
    }
  }

  async commit(url: string, sha: string): Promise<CommitInfo> {
    const out = await this.git(this.dirFor(url)).raw(['log', '-1', `--format=${COMMIT_FORMAT}`, sha]);
    return parseCommitRecord(out);
  }

  /** Every file under `path` at `sha`, symlinks resolved inside the repository. */
  async readTree(
    url: string,
    sha: string,
    path: string | undefined,
    include: (file: string) => boolean,
  ): Promise<RepoFile[]> {
    const dir = this.dirFor(url);
    const base = repoPath(path);
    const git = this.git(dir);
    if (base !== '') {
      const type = (await git.raw(['cat-file', '-t', `${sha}:${base}`]).catch(() => '')).trim();
      if (type !== 'tree') throw new GitContentError(base, `path not found at ${sha.slice(0, 12)}`);
    }
    const listing = await git.raw(['ls-tree', '-r', '-z', '--full-tree', sha, ...(base ? ['--', base] : [])]);
    const files: RepoFile[] = [];
    for (const entry of listing.split('\0').filter(Boolean)) {
      const match = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(entry);
      if (!match) continue;
      const [, mode, type, object, file] = match as unknown as [string, string, string, string, string];
      if (type !== 'blob' || !include(file)) continue;
      if (mode === '120000') {
        const target = resolveLink(file, await git.raw(['cat-file', 'blob', object]));
        const content = await git.raw(['cat-file', 'blob', `${sha}:${target}`]).catch(() => {
          throw new GitContentError(file, `symlink target ${target} does not exist`);
        });
        files.push({ path: file, content });
      } else {
        files.push({ path: file, content: await git.raw(['cat-file', 'blob', object]) });
      }
    }
    return files.sort((a, b) => a.path.localeCompare(b.path));
  }

  private git(dir: string): SimpleGit {
    return simpleGit({
      baseDir: dir,
      timeout: { block: this.timeoutMs },
      allowEnvironment: ['GIT_TERMINAL_PROMPT'],
    }).env(gitEnv());
  }

  private async serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.locks.set(
      key,
      next.catch(() => undefined),
    );
    return next;
  }
}

/** git's own diagnosis is its `fatal:` line; the lines after it are generic advice. */
function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => l.startsWith('fatal:')) ?? lines[0] ?? msg;
}
