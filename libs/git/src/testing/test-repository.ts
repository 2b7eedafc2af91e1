import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { envWith } from './process-env.js';

/**
 * A real repository for tests: a bare `<root>/<name>.git` (serve `root` with HttpGitServer, or use
 * `fileUrl`) and a work tree we commit from with the git CLI, onto any branch.
 */
export class TestRepository {
  readonly bare: string;
  readonly fileUrl: string;
  private readonly work: string;

  private constructor(root: string, name: string) {
    this.bare = join(root, `${name}.git`);
    this.fileUrl = `file://${this.bare}`;
    this.work = join(root, `${name}-work`);
  }

  static async create(root: string, name: string): Promise<TestRepository> {
    const repo = new TestRepository(root, name);
    await mkdir(root, { recursive: true });
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', repo.bare]);
    execFileSync('git', ['init', '-q', '-b', 'main', repo.work]);
    repo.git('remote', 'add', 'origin', repo.fileUrl);
    return repo;
  }

  /** Writes (or with null, deletes) files in the work tree; bytes are written as they are. */
  async write(files: Record<string, string | Uint8Array | null>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.work, path);
      if (content === null) await rm(full, { recursive: true, force: true });
      else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
  }

  /** Switches the work tree to `branch`, creating it from the current commit if new. */
  branch(branch: string): void {
    const exists = this.git('branch', '--list', branch) !== '';
    this.git('checkout', '-q', ...(exists ? [branch] : ['-b', branch]));
  }

  /** Commits everything and pushes the current branch; returns the commit's sha. */
  commit(message: string): string {
    this.git('add', '-A');
    this.git(
      '-c',
      'user.name=Ada',
      '-c',
      'user.email=ada@example.com',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      message,
    );
    this.git('push', '-q', 'origin', 'HEAD');
    return this.git('rev-parse', 'HEAD');
  }

  tag(name: string): void {
    this.git('tag', name);
    this.git('push', '-q', 'origin', `refs/tags/${name}`);
  }

  private git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.work, encoding: 'utf8', env: envWith({}) }).trim();
  }
}
