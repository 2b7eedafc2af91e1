import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface Person {
  name: string;
  email: string;
}

/**
 * A real Git server for tests: a bare repository reached over file://, and a clone we commit
 * to and push from, exactly as a user would.
 */
export class GitRepo {
  readonly url: string;
  /** The clone's working tree (what `capstan diff --working-tree` reads). */
  readonly work: string;

  private constructor(private readonly root: string) {
    this.url = `file://${join(root, 'origin.git')}`;
    this.work = join(root, 'work');
  }

  static async create(root: string): Promise<GitRepo> {
    await mkdir(root, { recursive: true });
    const repo = new GitRepo(root);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'origin.git')]);
    execFileSync('git', ['init', '-q', '-b', 'main', repo.work]);
    repo.git('remote', 'add', 'origin', repo.url);
    return repo;
  }

  async write(files: Record<string, string | null>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.work, path);
      if (content === null) await rm(full, { force: true });
      else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
  }

  /** Commits everything and pushes to main; returns the new commit's sha. */
  commit(message: string, author: Person, committer: Person = author): string {
    this.git('add', '-A');
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], {
      cwd: this.work,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_COMMITTER_NAME: committer.name,
        GIT_COMMITTER_EMAIL: committer.email,
      },
    });
    this.git('push', '-q', 'origin', 'HEAD:main');
    return this.git('rev-parse', 'HEAD');
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  private git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.work, encoding: 'utf8' }).trim();
  }
}
