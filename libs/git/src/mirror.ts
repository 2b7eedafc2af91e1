import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { simpleGit, type SimpleGit } from 'simple-git';
import { COMMIT_FORMAT, parseCommitRecord, type CommitInfo } from './commit.js';
import { followsHead, rewriteUrl, type GitRef, type UrlRewrites } from '@capstan/gitops-core';
import { GitContentError, GitOperationError } from './errors.js';
import { repoPath, resolveLink } from './paths.js';
import { readObjects, type BlobRead } from './blobs.js';
import { gitEnv, withGitConfig } from './git-env.js';
import { credentialEnv, type GitCredentials } from './credentials.js';
import { pickSemverTag } from './semver-ref.js';
import { markCacheDir, pinnedGitConfig, type SourcePolicy } from './source-policy.js';
import {
  parseGpgStatus,
  parseSshVerify,
  signatureFormat,
  type CommitVerification,
  type VerificationKeys,
} from './verification.js';

const execFileAsync = promisify(execFile);

export interface FetchOptions {
  /** From the GitRepository's secretRef; never written to disk except an SSH key in a temp dir. */
  credentials?: GitCredentials;
  /**
   * The caller follows the remote's default branch: the mirror's HEAD is brought up to the
   * remote's on every fetch. `git clone --mirror` copies HEAD once and `git fetch` never moves
   * it, so a default branch renamed later (master -> main) would otherwise be followed forever.
   */
  followHead?: boolean;
}

/** A ref resolved to a commit; `name` is the branch or tag (for semver, the chosen tag). */
export interface ResolvedRef {
  sha: string;
  name?: string;
}

export interface RepoFile {
  path: string;
  /** Bytes as committed: charts vendor binary archives; decode only what is parsed as text. */
  content: Buffer;
  /**
   * Set (to the file's size) when the file is over `maxFileBytes`: it was not read and `content`
   * is empty. A render fails on it only if it needs it, so a big picture in the repository is fine.
   */
  oversized?: number;
}

export interface GitMirrorOptions {
  /** Which URLs may be fetched; unset: any (the CLI on a person's machine). */
  policy?: SourcePolicy;
  /** Files larger than this are listed but not read (see RepoFile.oversized). */
  maxFileBytes?: number;
  /** The most a tree read may hold in memory, files under maxFileBytes summed (GitContentError past it). */
  maxTreeBytes?: number;
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
    /** Public URL prefix -> mirror prefix (git's insteadOf): where a URL is really fetched from. */
    private readonly urlRewrites: UrlRewrites = {},
    private readonly options: GitMirrorOptions = {},
  ) {}

  dirFor(url: string): string {
    return join(this.cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 24) + '.git');
  }

  /** Clones or fetches; serialized per URL because two fetches into one mirror would race. */
  async fetch(url: string, options: FetchOptions = {}): Promise<string> {
    // The URL as Git names it is the tenant's input; rewrites are the operator's and trusted.
    const dir = this.dirFor(url);
    return this.serialized(dir, async () => {
      // Checked inside the lock, right before git runs: the addresses checked are the ones git
      // is pinned to, with no fetch queued in between.
      const checked = await this.options.policy?.check(url);
      // The mirror keeps the URL as Git names it (its identity); the network sees the rewrite.
      const remote = rewriteUrl(url, this.urlRewrites);
      // A name git would resolve by itself (http, git://) that the policy could not: a later
      // answer could be anything, so the fetch fails as git would. A rewritten URL goes elsewhere.
      if (
        remote === url &&
        checked !== undefined &&
        checked.addresses.length === 0 &&
        isIP(checked.host) === 0 &&
        /^(https?|git):\/\//i.test(url)
      )
        throw new GitOperationError('fetch', url, `Could not resolve host: ${checked.host}`);
      const credentials = await credentialEnv(options.credentials);
      // A rewrite is the operator's (a trusted mirror): only the tenant's own URL is pinned.
      const auth = {
        ...credentials,
        env: withGitConfig(credentials.env, remote === url ? pinnedGitConfig(url, checked) : []),
      };
      const exists = await stat(join(dir, 'HEAD')).then(
        () => true,
        () => false,
      );
      try {
        if (!exists) {
          await mkdir(this.cacheDir, { recursive: true });
          await markCacheDir(this.cacheDir);
          await rm(dir, { recursive: true, force: true });
          await this.git(this.cacheDir, auth.env).clone(remote, dir, ['--mirror', '--quiet']);
        } else {
          if (remote !== url) await this.git(dir).remote(['set-url', 'origin', remote]);
          await this.git(dir, auth.env).fetch([
            '--prune',
            '--quiet',
            '--force',
            'origin',
            '+refs/heads/*:refs/heads/*',
            '+refs/tags/*:refs/tags/*',
          ]);
          if (options.followHead) await this.updateHead(dir, auth.env);
        }
      } catch (e) {
        const via = remote === url ? '' : ` (through ${remote})`;
        throw new GitOperationError(exists ? 'fetch' : 'clone', `${url}${via}`, firstLine(e));
      } finally {
        await auth.cleanup();
      }
      return dir;
    });
  }

  /** Points the mirror's HEAD where the remote's points (one ls-remote of HEAD alone). */
  private async updateHead(dir: string, env: Record<string, string>): Promise<void> {
    const answer = await this.git(dir, env).raw(['ls-remote', '--symref', 'origin', 'HEAD']);
    const target = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(answer)?.[1];
    // A remote without a symbolic HEAD (some servers hide it) keeps the one the clone saw.
    if (!target) return;
    const current = (
      await this.git(dir)
        .raw(['symbolic-ref', 'HEAD'])
        .catch(() => '')
    ).trim();
    if (current !== target) await this.git(dir).raw(['symbolic-ref', 'HEAD', target]);
  }

  /** The commit a ref points at in the mirror. */
  async resolve(url: string, ref: GitRef): Promise<string> {
    return (await this.resolveRef(url, ref)).sha;
  }

  /** The commit a ref points at, and the branch or tag it came from (the highest match for semver). */
  async resolveRef(url: string, ref: GitRef): Promise<ResolvedRef> {
    const dir = this.dirFor(url);
    let name = ref.tag ?? ref.branch;
    if (followsHead(ref)) {
      // No ref: the remote's default branch, as `git clone` takes it (the mirror's HEAD).
      name =
        (
          await this.git(dir)
            .raw(['symbolic-ref', '--short', 'HEAD'])
            .catch(() => '')
        ).trim() || 'main';
      ref = { branch: name };
    }
    if (ref.semver !== undefined && !ref.commit) {
      const tags = (await this.git(dir).raw(['for-each-ref', '--format=%(refname:strip=2)', 'refs/tags']))
        .split('\n')
        .filter(Boolean);
      let picked: string | undefined;
      try {
        picked = pickSemverTag(tags, ref.semver);
      } catch (e) {
        throw new GitOperationError('resolve', url, e instanceof Error ? e.message : String(e));
      }
      if (!picked)
        throw new GitOperationError('resolve', url, `no tag satisfies semver range "${ref.semver}"`);
      name = picked;
    }
    const spec =
      ref.commit ?? (ref.semver || ref.tag ? `refs/tags/${name}` : `refs/heads/${ref.branch ?? 'main'}`);
    try {
      const sha = (await this.git(dir).revparse([`${spec}^{commit}`])).trim();
      return ref.commit ? { sha } : { sha, name: name ?? 'main' };
    } catch (e) {
      throw new GitOperationError('resolve', url, `ref ${spec} not found: ${firstLine(e)}`);
    }
  }

  /**
   * A branch, tag or commit named the way `git checkout` takes it (Flux v1's `chart.ref`): git's
   * own lookup order decides, so a tag wins over a branch of the same name, as it did in Flux.
   */
  async resolveRevision(url: string, revision: string): Promise<string> {
    // Never let a ref from a manifest reach git as an option.
    if (revision.startsWith('-') || /[\s\0]|\.\./.test(revision))
      throw new GitOperationError('resolve', url, `ref ${revision} is not a valid ref name`);
    const sha = await this.git(this.dirFor(url))
      .raw(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`])
      .then((out) => out.trim())
      .catch(() => '');
    // --quiet exits non-zero with no output for an unknown name, which simple-git may not raise.
    if (!/^[0-9a-f]{40,64}$/.test(sha))
      throw new GitOperationError(
        'resolve',
        url,
        `ref ${revision} not found (no such branch, tag or commit)`,
      );
    return sha;
  }

  /** One file's content at a commit, or undefined when the commit has no such file. */
  async readFile(url: string, sha: string, path: string): Promise<string | undefined> {
    const git = this.git(this.dirFor(url));
    const spec = `${sha}:${repoPath(path)}`;
    const type = (await git.raw(['cat-file', '-t', spec]).catch(() => '')).trim();
    return type === 'blob' ? git.raw(['cat-file', 'blob', spec]) : undefined;
  }

  /**
   * Checks the commit's signature against the given keys only: a throwaway GNUPGHOME holds the
   * OpenPGP keys and a throwaway allowed-signers file the SSH ones, so keys the host happens to
   * trust never count.
   */
  async verifyCommit(url: string, sha: string, keys: VerificationKeys): Promise<CommitVerification> {
    const dir = this.dirFor(url);
    const format = signatureFormat(await this.git(dir).raw(['cat-file', 'commit', sha]));
    if (format === undefined) return { status: 'unsigned' };
    if (format === 'unknown') return { status: 'invalid' };
    const tmp = await mkdtemp(join(tmpdir(), 'capstan-verify-'));
    try {
      if (format === 'ssh') {
        if (!keys.allowedSigners) return { status: 'invalid', format };
        const file = join(tmp, 'allowed_signers');
        await writeFile(file, keys.allowedSigners);
        const run = await this.rawGit(dir, [
          '-c',
          `gpg.ssh.allowedSignersFile=${file}`,
          'verify-commit',
          '--raw',
          sha,
        ]);
        return parseSshVerify(run.output, run.ok);
      }
      const home = join(tmp, 'gnupg');
      await mkdir(home);
      await chmod(home, 0o700);
      for (const [i, key] of keys.openpgp.entries()) {
        const file = join(tmp, `key-${i}.asc`);
        await writeFile(file, key);
        await execFileAsync('gpg', ['--batch', '--quiet', '--import', file], {
          env: { ...gitEnv(), GNUPGHOME: home },
          timeout: this.timeoutMs,
        });
      }
      const run = await this.rawGit(dir, ['verify-commit', '--raw', sha], { GNUPGHOME: home });
      return parseGpgStatus(run.output);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** git without simple-git, for commands whose failure output is the answer (verify-commit). */
  private async rawGit(
    dir: string,
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ ok: boolean; output: string }> {
    try {
      const r = await execFileAsync('git', args, {
        cwd: dir,
        env: { ...gitEnv(), ...env },
        timeout: this.timeoutMs,
      });
      return { ok: true, output: `${r.stdout}\n${r.stderr}` };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      return { ok: false, output: `${err.stdout ?? ''}\n${err.stderr ?? err.message}` };
    }
  }

  /**
   * The commits reachable from `to` but not from `from`, oldest first, at most `limit` (the
   * newest ones). Empty when `from` is not an ancestor's side of `to` at all (history rewritten).
   */
  async commitsBetween(url: string, from: string, to: string, limit = 50): Promise<CommitInfo[]> {
    if (![from, to].every((sha) => /^[0-9a-f]{40,64}$/.test(sha))) return [];
    const git = this.git(this.dirFor(url));
    const base = (await git.raw(['merge-base', from, to]).catch(() => '')).trim();
    if (base !== from) return [];
    const out = await git.raw([
      'log',
      `--max-count=${limit}`,
      '-z',
      `--format=${COMMIT_FORMAT}`,
      `${from}..${to}`,
    ]);
    return out
      .split('\0')
      .filter((r) => r.trim() !== '')
      .map(parseCommitRecord)
      .reverse();
  }

  /** How many commits are reachable from `to` but not from `from` (what commitsBetween would list without a limit). */
  async countBetween(url: string, from: string, to: string): Promise<number> {
    if (![from, to].every((sha) => /^[0-9a-f]{40,64}$/.test(sha))) return 0;
    const out = await this.git(this.dirFor(url)).raw(['rev-list', '--count', `${from}..${to}`]);
    return Number.parseInt(out.trim(), 10) || 0;
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
    const listing = await git.raw([
      'ls-tree',
      '-r',
      '-l',
      '-z',
      '--full-tree',
      sha,
      ...(base ? ['--', base] : []),
    ]);
    const entries: { mode: string; object: string; file: string; size: number }[] = [];
    const sizes = new Map<string, number>();
    for (const entry of listing.split('\0').filter(Boolean)) {
      const match = /^(\d+) (\w+) ([0-9a-f]+) +(\d+|-)\t(.*)$/s.exec(entry);
      if (!match) continue;
      const [, mode, type, object, size, file] = match as unknown as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      if (type !== 'blob') continue;
      sizes.set(file, Number(size));
      if (include(file)) entries.push({ mode, object, file, size: Number(size) });
    }
    const max = this.options.maxFileBytes ?? Infinity;
    const read = (specs: string[]) => readObjects(dir, specs, gitEnv(), this.timeoutMs);
    // Oversized blobs are never read: a 50 MB file must not cost 50 MB of memory per Sync.
    const wanted = entries.map((e) => (e.size > max ? undefined : e.object));
    const treeLimit = this.options.maxTreeBytes ?? Infinity;
    const overTree = (total: number) =>
      new GitContentError(
        base || '.',
        `the files at ${sha.slice(0, 12)} hold ${total} bytes, over the limit of ${treeLimit} bytes a repository may hold (limit maxRepositoryBytes)`,
      );
    let total = entries.reduce((sum, e) => sum + (e.size > max ? 0 : e.size), 0);
    if (total > treeLimit) throw overTree(total);
    const got = await read(wanted.filter((o): o is string => o !== undefined));
    const blobs: (BlobRead | undefined)[] = [];
    let next = 0;
    for (const object of wanted) blobs.push(object === undefined ? undefined : got[next++]);
    const links = entries.flatMap((e, i) => {
      const blob = blobs[i];
      if (e.mode !== '120000' || blob?.kind !== 'blob') return [];
      return [{ index: i, file: e.file, target: resolveLink(e.file, blob.content.toString('utf8')) }];
    });
    const oversized = new Map<number, number>();
    const readable = links.filter((l) => {
      const size = sizes.get(l.target) ?? 0;
      if (size <= max) return true;
      oversized.set(l.index, size);
      return false;
    });
    // Each link reads its target again: a thousand links to one big file count a thousand times.
    total += readable.reduce((sum, l) => sum + (sizes.get(l.target) ?? 0), 0);
    if (total > treeLimit) throw overTree(total);
    const targets = await read(readable.map((l) => `${sha}:${l.target}`));
    for (const [j, link] of readable.entries()) {
      const target = targets[j];
      if (target?.kind !== 'blob')
        throw new GitContentError(link.file, `symlink target ${link.target} does not exist`);
      blobs[link.index] = target;
    }
    const files: RepoFile[] = entries.map((e, i) => {
      const size = e.size > max ? e.size : oversized.get(i);
      if (size !== undefined) return { path: e.file, content: Buffer.alloc(0), oversized: size };
      const blob = blobs[i];
      if (blob?.kind !== 'blob') throw new GitContentError(e.file, `object ${e.object} is missing`);
      return { path: e.file, content: blob.content };
    });
    return files.sort((a, b) => a.path.localeCompare(b.path));
  }

  private git(dir: string, extraEnv: Record<string, string> = {}): SimpleGit {
    return simpleGit({
      baseDir: dir,
      timeout: { block: this.timeoutMs },
      // Only the variables credentialEnv sets, with values we build ourselves.
      allowEnvironment: ['GIT_TERMINAL_PROMPT', ...Object.keys(extraEnv)],
      // The environment is ours alone (credentials, pinned addresses as url.<address>.insteadOf).
      unsafe: { allowUnsafeSshCommand: true, allowUnsafeConfigEnvCount: true, allowUnsafeUrlRewrite: true },
    }).env({ ...gitEnv(), ...extraEnv });
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

/**
 * git's own diagnosis is its `fatal:` line; the lines after it are generic advice. Over SSH the
 * cause ("Host key verification failed.", "Permission denied (publickey).") is printed by ssh
 * just before git's generic "Could not read from remote repository", so it is kept in front.
 */
function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const fatal = lines.findIndex((l) => l.startsWith('fatal:'));
  if (fatal < 0) return lines[0] ?? msg;
  const cause = lines
    .slice(0, fatal)
    .filter((l) =>
      /Host key verification failed|Permission denied|Connection (refused|closed)|No route to host/i.test(l),
    );
  return [...cause, lines[fatal]].join(' ');
}
