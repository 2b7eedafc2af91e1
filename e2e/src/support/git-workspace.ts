import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * A bare repository `<root>/<name>.git` and a work tree that commits, tags and pushes to it with
 * the git CLI. Unlike GitRepo it tags, and its root can be served by HttpGitServer.
 */
export class GitWorkspace {
  readonly bare: string;
  readonly url: string;
  private readonly work: string;

  private constructor(
    readonly root: string,
    readonly name: string,
  ) {
    this.bare = join(root, `${name}.git`);
    this.url = `file://${this.bare}`;
    this.work = join(root, `${name}-work`);
  }

  static async create(root: string, name = 'app'): Promise<GitWorkspace> {
    await mkdir(root, { recursive: true });
    const ws = new GitWorkspace(root, name);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', ws.bare]);
    execFileSync('git', ['init', '-q', '-b', 'main', ws.work]);
    ws.git('remote', 'add', 'origin', ws.url);
    return ws;
  }

  async write(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(this.work, path)), { recursive: true });
      await writeFile(join(this.work, path), content);
    }
  }

  /**
   * Commits everything, pushes main (unless `push` is false: several commits then arrive at once),
   * returns the sha; with `sshSigningKey` (a private key file) the commit is signed.
   */
  commit(message: string, sshSigningKey?: string, { push = true }: { push?: boolean } = {}): string {
    this.git('add', '-A');
    const sign = sshSigningKey ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${sshSigningKey}`] : [];
    this.git(
      '-c',
      'user.name=Ada',
      '-c',
      'user.email=ada@example.com',
      ...sign,
      'commit',
      ...(sshSigningKey ? ['-S'] : []),
      '-q',
      '--allow-empty',
      '-m',
      message,
    );
    if (push) this.git('push', '-q', 'origin', 'HEAD:main');
    return this.git('rev-parse', 'HEAD');
  }

  /** Tags HEAD and pushes the tag. */
  tag(name: string): void {
    this.git('tag', name);
    this.git('push', '-q', 'origin', `refs/tags/${name}`);
  }

  /** A new ed25519 key pair in the workspace root; returns the private key's path and the public key. */
  sshKey(name: string): { file: string; publicKey: string } {
    const file = join(this.root, name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
    return { file, publicKey: readFileSync(`${file}.pub`, 'utf8').trim() };
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  private git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.work, encoding: 'utf8' }).trim();
  }
}
