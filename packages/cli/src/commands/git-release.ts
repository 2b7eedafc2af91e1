import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type Command } from 'commander';
import { simpleGit, type SimpleGit } from 'simple-git';
import { gitEnv } from '@capstan/git';
import {
  formatImageRef,
  holdsWorkload,
  parseImageRef,
  releaseImage,
  setLock,
  WorkloadEditError,
  type WorkloadRef,
} from '@capstan/image-policy';
import { parseObjectPath, UsageError } from '../object-ref.js';

interface GitOptions {
  repo: string;
  branch: string;
  path: string;
  user?: string;
  message?: string;
}

/** `Name <email>` as Git writes people. */
export function parsePerson(user: string): { name: string; email: string } {
  const m = /^\s*(.+?)\s*<([^>]+)>\s*$/.exec(user);
  if (!m) throw new UsageError(`--user "${user}": expected "Name <email>"`);
  return { name: m[1] ?? '', email: m[2] ?? '' };
}

/**
 * Changes one workload's file in Git as the person running the command (author and committer),
 * like `fluxctl release`/`lock`: clone, edit, commit, push; one fetch-rebase retry if someone
 * pushed meanwhile. The git-watcher then sees it like any commit.
 */
async function commitToWorkload(
  opts: GitOptions,
  workload: WorkloadRef,
  edit: (text: string, path: string) => string,
  message: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'capstan-cli-'));
  try {
    const env = gitEnv();
    // simple-git guards the environment: allow exactly the variables set here.
    const git = (cwd: string, extra: Record<string, string> = {}): SimpleGit => {
      const all = { ...env, ...extra };
      const allowEnvironment = Object.keys(all).filter((k) => k.startsWith('GIT_'));
      return simpleGit({ baseDir: cwd, allowEnvironment }).env(all);
    };
    await git(tmpdir()).clone(opts.repo, dir, ['--quiet', '--branch', opts.branch, '--single-branch']);
    const files = await yamlFiles(join(dir, opts.path));
    let changed: string | undefined;
    for (const full of files) {
      const text = await readFile(full, 'utf8');
      if (!holdsWorkload(text, workload)) continue;
      const next = edit(text, relative(dir, full));
      if (next !== text) {
        await writeFile(full, next);
        changed = relative(dir, full);
      }
      break;
    }
    if (!changed)
      throw new UsageError(
        `${workload.namespace}/${workload.kind}/${workload.name}: not found under ${opts.path} in ${opts.repo}, or nothing to change`,
      );
    const person = opts.user ? parsePerson(opts.user) : undefined;
    const repo = git(dir);
    const name = person?.name ?? (await repo.raw(['config', 'user.name']).catch(() => '')).trim();
    const email = person?.email ?? (await repo.raw(['config', 'user.email']).catch(() => '')).trim();
    if (!name || !email)
      throw new UsageError('who is releasing? pass --user "Name <email>" or set git config user.name/email');
    await git(dir, {
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: email,
      GIT_COMMITTER_NAME: name,
      GIT_COMMITTER_EMAIL: email,
    }).raw(['commit', '--quiet', '-m', opts.message ?? message, '--', changed]);
    try {
      await repo.push('origin', `HEAD:${opts.branch}`);
    } catch {
      await git(dir, { GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email }).raw([
        'pull',
        '--quiet',
        '--rebase',
        'origin',
        opts.branch,
      ]);
      await repo.push('origin', `HEAD:${opts.branch}`);
    }
    return (await repo.revparse(['HEAD'])).trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function yamlFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile() && /\.ya?ml$/.test(e.name) && !e.parentPath.includes('/.git'))
      out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

export function registerGitReleases(cmd: Command, out: (s: string) => void): void {
  const gitOptions = (c: Command) =>
    c
      .requiredOption('--repo <url>', 'the Git repository holding the workload')
      .option('--branch <branch>', 'branch to commit to', 'main')
      .option('--path <dir>', 'directory of the manifests', '.')
      .option('--user <person>', 'author, "Name <email>" (default: git config)')
      .option('-m, --message <text>', 'commit message instead of the Flux v1 one');

  gitOptions(
    cmd
      .command('release')
      .description(
        'release an image to a workload: a commit to Git with you as author (like fluxctl release)',
      )
      .argument('<workload>', '<namespace>/<kind>/<name>')
      .requiredOption('--image <ref>', 'repo:tag to run')
      .option('--container <name>', 'only this container (default: those running the repository)')
      .option('--force', 'release even if the workload is locked'),
  ).action(async (w: string, opts: GitOptions & { image: string; container?: string; force?: boolean }) => {
    const workload = parseObjectPath(w);
    let image;
    try {
      image = parseImageRef(opts.image);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (!image.tag) throw new UsageError(`--image ${opts.image}: needs a tag`);
    const sha = await commitToWorkload(
      opts,
      workload,
      (text, path) =>
        releaseImage({ path, text }, workload, image, {
          ...(opts.container ? { container: opts.container } : {}),
          ...(opts.force ? { force: true } : {}),
        }).text,
      `Release ${formatImageRef(image)} to ${workload.namespace}:${workload.kind.toLowerCase()}/${workload.name}`,
    ).catch(rethrowEditError);
    out(`released ${formatImageRef(image)} to ${w} in ${sha.slice(0, 12)}`);
  });

  for (const locking of [true, false]) {
    gitOptions(
      cmd
        .command(locking ? 'lock' : 'unlock')
        .description(
          locking ? 'lock a workload: automation and releases leave it alone' : 'unlock a workload',
        )
        .argument('<workload>', '<namespace>/<kind>/<name>'),
    ).action(async (w: string, opts: GitOptions) => {
      const workload = parseObjectPath(w);
      const who = opts.user ? parsePerson(opts.user).name : undefined;
      const id = `${workload.namespace}:${workload.kind.toLowerCase()}/${workload.name}`;
      const sha = await commitToWorkload(
        // The lock's message is the commit's, as fluxctl lock --message does.
        {
          ...opts,
          ...(opts.message
            ? { message: `${locking ? 'Locked' : 'Unlocked'}: ${id}\n\n${opts.message}` }
            : {}),
        },
        workload,
        (text) =>
          setLock(
            text,
            workload,
            locking
              ? { ...(who ? { user: who } : {}), ...(opts.message ? { message: opts.message } : {}) }
              : undefined,
          ),
        `${locking ? 'Locked' : 'Unlocked'}: ${id}`,
      ).catch(rethrowEditError);
      out(`${locking ? 'locked' : 'unlocked'} ${w} in ${sha.slice(0, 12)}`);
    });
  }
}

function rethrowEditError(e: unknown): never {
  if (e instanceof WorkloadEditError) throw new UsageError(e.message);
  throw e;
}
