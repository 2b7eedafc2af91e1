import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitContentError, GitMirror, GitOperationError } from './index.js';

// A real bare repository served over file://, committed to with the git CLI.
describe('GitMirror', () => {
  let root: string;
  let work: string;
  let url: string;
  let mirror: GitMirror;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8' }).trim();
  const commit = (msg: string) => {
    git('add', '-A');
    git('-c', 'user.name=Ada Lovelace', '-c', 'user.email=ada@example.com', 'commit', '-q', '-m', msg);
    git('push', '-q', 'origin', 'HEAD:main');
    return git('rev-parse', 'HEAD');
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-git-'));
    work = join(root, 'work');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'app.git')]);
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    url = `file://${join(root, 'app.git')}`;
    git('remote', 'add', 'origin', url);
    mirror = new GitMirror(join(root, 'cache'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('fetches, resolves a branch and reads commit metadata', async () => {
    await mkdir(join(work, 'deploy/app'), { recursive: true });
    await writeFile(join(work, 'deploy/app/cm.yaml'), 'kind: ConfigMap\n');
    await writeFile(join(work, 'README.md'), 'hi\n');
    const sha = commit('add app\n\nwith a body');
    await mirror.fetch(url);
    assert.equal(await mirror.resolve(url, { branch: 'main' }), sha);
    const info = await mirror.commit(url, sha);
    assert.equal(info.author.name, 'Ada Lovelace');
    assert.equal(info.author.email, 'ada@example.com');
    assert.equal(info.message, 'add app\n\nwith a body');
    assert.deepEqual(info.parents, []);
  });

  it('sees the next commit after an incremental fetch, with its parent', async () => {
    const first = await mirror.resolve(url, { branch: 'main' });
    await writeFile(join(work, 'deploy/app/svc.yml'), 'kind: Service\n');
    const second = commit('add service');
    await mirror.fetch(url);
    assert.equal(await mirror.resolve(url, { branch: 'main' }), second);
    assert.deepEqual((await mirror.commit(url, second)).parents, [first]);
    const files = await mirror.readTree(url, second, './deploy', (f) => /\.ya?ml$/.test(f));
    assert.deepEqual(
      files.map((f) => f.path),
      ['deploy/app/cm.yaml', 'deploy/app/svc.yml'],
    );
    // The older commit is still readable as it was.
    assert.equal((await mirror.readTree(url, first, 'deploy', () => true)).length, 1);
  });

  it('refuses a path or symlink that escapes the repository', async () => {
    const sha = await mirror.resolve(url, { branch: 'main' });
    await assert.rejects(
      mirror.readTree(url, sha, '../etc', () => true),
      GitContentError,
    );
    await symlink('../../../../etc/passwd', join(work, 'deploy/app/evil.yaml'));
    const bad = commit('evil link');
    await mirror.fetch(url);
    await assert.rejects(
      mirror.readTree(url, bad, 'deploy', () => true),
      /evil.yaml: symlink to .* escapes the repository/,
    );
  });

  it('reports an unreachable remote as a GitOperationError', async () => {
    await assert.rejects(mirror.fetch(`file://${join(root, 'missing.git')}`), GitOperationError);
  });
});
