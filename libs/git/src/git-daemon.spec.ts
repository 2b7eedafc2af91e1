import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitMirror } from './index.js';

// The git:// protocol against a real `git daemon` on loopback.
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

describe('GitMirror over git://', () => {
  let root: string;
  let daemon: ChildProcess;
  let url: string;
  let sha: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-gitd-'));
    const work = join(root, 'work');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'app.git')]);
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8' }).trim();
    git(
      '-c',
      'user.name=Ada',
      '-c',
      'user.email=ada@example.com',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'over the wire',
    );
    git('push', '-q', join(root, 'app.git'), 'HEAD:main');
    sha = git('rev-parse', 'HEAD');
    const port = await freePort();
    daemon = spawn(
      'git',
      [
        'daemon',
        '--reuseaddr',
        `--base-path=${root}`,
        '--export-all',
        '--listen=127.0.0.1',
        `--port=${port}`,
        root,
      ],
      { stdio: 'ignore' },
    );
    url = `git://127.0.0.1:${port}/app.git`;
    // The daemon takes a moment to listen; cloning is the readiness probe.
    const mirror = new GitMirror(join(root, 'probe'));
    for (let i = 0; ; i++) {
      try {
        await mirror.fetch(url);
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  after(async () => {
    daemon.kill();
    await rm(root, { recursive: true, force: true });
  });

  it('clones, resolves and reads commit metadata', async () => {
    const mirror = new GitMirror(join(root, 'cache'));
    await mirror.fetch(url);
    assert.equal(await mirror.resolve(url, { branch: 'main' }), sha);
    assert.equal((await mirror.commit(url, sha)).message, 'over the wire');
  });
});
