import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import {
  COMMIT_FORMAT,
  credentialEnv,
  gitEnv,
  GitOperationError,
  withGitConfig,
  parseCommitRecord,
  type CommitInfo,
  type GitCredentials,
} from '@capstan/git';

export interface Signature {
  name: string;
  email: string;
}

export type PushResult = { kind: 'pushed' } | { kind: 'rejected'; detail: string };

/**
 * A working clone kept between automation runs (one per repository URL and branch), so a run
 * costs a fetch, not a clone. Every run starts from the remote branch exactly: anything a failed
 * run left behind is reset away.
 */
export class GitWorkspace {
  /** Where git must connect (the addresses the source policy checked), as git configuration. */
  private pins: readonly (readonly [string, string])[] = [];

  private constructor(
    readonly dir: string,
    readonly url: string,
    readonly branch: string,
    /** Larger files are never read: a 50 MB YAML in a tenant's repository must not cost 1 GB. */
    private readonly maxFileBytes: number,
  ) {}

  /**
   * Connect to these checked addresses only (pinnedGitConfig of the policy's check), for every
   * clone, fetch and push until set again: a second DNS answer never reaches git.
   */
  pin(pins: readonly (readonly [string, string])[]): void {
    this.pins = pins;
  }

  static at(cacheDir: string, url: string, branch: string, maxFileBytes = 4 * 1024 * 1024): GitWorkspace {
    const key = createHash('sha256').update(`${url}\0${branch}`).digest('hex').slice(0, 24);
    return new GitWorkspace(join(cacheDir, key), url, branch, maxFileBytes);
  }

  /** Clones or fetches, then puts the work tree exactly at the remote branch. */
  async sync(creds?: GitCredentials): Promise<void> {
    const exists = await stat(join(this.dir, '.git')).then(
      () => true,
      () => false,
    );
    await this.withAuth(creds, async (env) => {
      try {
        if (!exists) {
          await rm(this.dir, { recursive: true, force: true });
          await mkdir(dirname(this.dir), { recursive: true });
          await gitAt(dirname(this.dir), env).clone(this.url, this.dir, [
            '--quiet',
            '--branch',
            this.branch,
            '--single-branch',
          ]);
        } else {
          await this.git(env).fetch([
            '--quiet',
            '--force',
            'origin',
            `+refs/heads/${this.branch}:refs/remotes/origin/${this.branch}`,
          ]);
        }
      } catch (e) {
        throw new GitOperationError(exists ? 'fetch' : 'clone', this.url, firstLine(e));
      }
    });
    // Every git process costs tens of milliseconds on a busy node: reset and clean only.
    const git = this.git(gitEnv());
    if (!exists) await git.raw(['checkout', '--quiet', '-B', this.branch, `origin/${this.branch}`]);
    await git.raw(['reset', '--quiet', '--hard', `origin/${this.branch}`]);
    await git.raw(['clean', '-fdxq']);
  }

  /** YAML files under `path` (relative to the repository root), sorted. */
  async yamlFiles(path: string): Promise<string[]> {
    const root = join(this.dir, path);
    const rel = relative(this.dir, root);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new Error(`spec.update.path ${path} escapes the repository`);
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (e.name === '.git') continue;
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        // Regular files only: a symlink in the checkout could point anywhere on this host, and
        // the automation writes back what it reads.
        else if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(relative(this.dir, full));
      }
    };
    await walk(root);
    return out.sort();
  }

  async read(file: string): Promise<string> {
    const info = await lstat(join(this.dir, file));
    if (!info.isFile()) throw new Error(`${file}: not a regular file (a symlink is never followed)`);
    if (info.size > this.maxFileBytes)
      throw new Error(
        `${file}: ${info.size} bytes is over the limit of ${this.maxFileBytes} bytes per file (limit maxFileBytes); left alone`,
      );
    return readFile(join(this.dir, file), 'utf8');
  }

  write(file: string, text: string): Promise<void> {
    return writeFile(join(this.dir, file), text);
  }

  /**
   * Commits the given files with `author`; the committer is the automation. With an SSH signing
   * key (`spec.git.commit.signingKey`), the commit is signed (`gpg.format=ssh`); the key lives in a
   * private temporary file for the one command.
   */
  async commit(
    files: string[],
    message: string,
    author: Signature,
    committer: Signature,
    signingKey?: string,
  ): Promise<void> {
    const git = this.git({
      ...gitEnv(),
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: committer.name,
      GIT_COMMITTER_EMAIL: committer.email,
    });
    // The files are tracked (automation only edits), so `--only` commits them without an add.
    const commit = ['commit', '--quiet', '--no-verify', '--only', '-m', message, '--', ...files];
    if (!signingKey) {
      await git.raw(commit);
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'capstan-sign-'));
    try {
      const key = join(dir, 'key');
      await writeFile(key, signingKey.endsWith('\n') ? signingKey : `${signingKey}\n`, { mode: 0o600 });
      await git.raw([
        '-c',
        'gpg.format=ssh',
        '-c',
        `user.signingkey=${key}`,
        ...commit.slice(0, 1),
        '-S',
        ...commit.slice(1),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Pushes HEAD to `branch`. A non-fast-forward rejection (someone pushed meanwhile) comes back
   * as `rejected` for the caller's fetch-rebase-retry; so does losing the race on the server (the
   * branch moved after our client read it: `cannot lock ref ... is at X but expected Y`); anything
   * else throws.
   */
  async push(branch: string, creds?: GitCredentials): Promise<PushResult> {
    return this.withAuth(creds, async (env) => {
      try {
        await this.git(env).raw(['push', '--porcelain', 'origin', `HEAD:refs/heads/${branch}`]);
        return { kind: 'pushed' };
      } catch (e) {
        const text = String(e);
        if (
          /\[rejected\]|non-fast-forward|fetch first|failed to update ref|stale info|cannot lock ref/i.test(
            text,
          )
        )
          return { kind: 'rejected', detail: firstLine(e) };
        throw new GitOperationError('push', this.url, remoteSaid(e));
      }
    });
  }

  /**
   * Replays our commit on top of what the remote has now. False on a conflict (a person changed
   * the same line): the rebase is aborted and the caller starts the run over from the remote.
   */
  async rebase(creds?: GitCredentials): Promise<boolean> {
    await this.withAuth(creds, (env) =>
      this.git(env).fetch([
        '--quiet',
        '--force',
        'origin',
        `+refs/heads/${this.branch}:refs/remotes/origin/${this.branch}`,
      ]),
    );
    const git = this.git({
      ...gitEnv(),
      GIT_COMMITTER_NAME: 'Capstan',
      GIT_COMMITTER_EMAIL: 'capstan@capstan.dev',
    });
    try {
      await git.raw(['rebase', '--quiet', `origin/${this.branch}`]);
      return true;
    } catch {
      await git.raw(['rebase', '--abort']).catch(() => undefined);
      return false;
    }
  }

  async commitInfo(sha: string): Promise<CommitInfo> {
    return parseCommitRecord(await this.git(gitEnv()).raw(['log', '-1', `--format=${COMMIT_FORMAT}`, sha]));
  }

  /**
   * The last commits that touched `file`, newest first, each with the file after it; the file
   * before a commit is the one after the next entry (the previous commit that touched it). Lazy:
   * a reader that stops at the first entry costs one `git log` and no `git show`.
   */
  async *history(
    file: string,
    limit = 10,
  ): AsyncGenerator<{ sha: string; author: Signature; after: () => Promise<string | undefined> }> {
    const git = this.git(gitEnv());
    const log = await git.raw(['log', `-n${limit}`, '--format=%H%x1f%an%x1f%ae', '--', file]);
    for (const line of log.split('\n').filter(Boolean)) {
      const [sha = '', name = '', email = ''] = line.split('\x1f');
      yield {
        sha,
        author: { name, email },
        after: () => git.raw(['show', `${sha}:${file}`]).catch(() => undefined),
      };
    }
  }

  private git(env: Record<string, string>): SimpleGit {
    return gitAt(this.dir, env);
  }

  private async withAuth<T>(
    creds: GitCredentials | undefined,
    fn: (env: Record<string, string>) => Promise<T>,
  ): Promise<T> {
    const auth = await credentialEnv(creds);
    try {
      return await fn(withGitConfig({ ...gitEnv(), ...auth.env }, this.pins));
    } finally {
      await auth.cleanup();
    }
  }
}

/** What the remote said about a refused push (hook output, the rejection line), not git's chatter. */
function remoteSaid(e: unknown): string {
  const lines = (e instanceof Error ? e.message : String(e)).split('\n').map((l) => l.trim());
  const said = lines
    .filter((l) => /^remote:|rejected|^error:|^fatal:/i.test(l))
    .map((l) => l.replace(/^remote:\s*/i, ''));
  return said.filter(Boolean).join('; ') || firstLine(e);
}

/** simple-git guards the environment: allow exactly the variables we set ourselves. */
function gitAt(dir: string, env: Record<string, string>): SimpleGit {
  return simpleGit({
    baseDir: dir,
    timeout: { block: 120_000 },
    allowEnvironment: Object.keys(env).filter((k) => k.startsWith('GIT_')),
    // The environment is ours alone (credentials, pinned addresses as url.<address>.insteadOf).
    unsafe: { allowUnsafeSshCommand: true, allowUnsafeConfigEnvCount: true, allowUnsafeUrlRewrite: true },
  }).env(env);
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (
    m
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? m
  );
}
