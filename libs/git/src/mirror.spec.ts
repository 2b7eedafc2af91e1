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

  it('reads binary files byte for byte, symlinked ones too', async () => {
    // Every byte value, including ones that are not UTF-8: a string round trip would mangle them.
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    await mkdir(join(work, 'charts/app/charts'), { recursive: true });
    await writeFile(join(work, 'charts/app/charts/lib-1.0.0.tgz'), bytes);
    await symlink('lib-1.0.0.tgz', join(work, 'charts/app/charts/lib.tgz'));
    const sha = commit('vendor a binary');
    await mirror.fetch(url);
    const files = await mirror.readTree(url, sha, 'charts', () => true);
    assert.deepEqual(
      files.map((f) => f.path),
      ['charts/app/charts/lib-1.0.0.tgz', 'charts/app/charts/lib.tgz'],
    );
    for (const f of files) assert.ok(f.content.equals(bytes), `${f.path} differs`);
  });

  it('resolves a Flux v1 style ref: branch, tag or commit, and refuses unknown or option-like ones', async () => {
    const main = await mirror.resolve(url, { branch: 'main' });
    git('tag', 'v1.0.0');
    git('push', '-q', 'origin', 'refs/tags/v1.0.0');
    git('checkout', '-q', '-b', 'charts');
    git(
      '-c',
      'user.name=Ada',
      '-c',
      'user.email=ada@example.com',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'on a branch',
    );
    git('push', '-q', 'origin', 'HEAD:charts');
    const onBranch = git('rev-parse', 'HEAD');
    git('checkout', '-q', 'main');
    await mirror.fetch(url);
    assert.equal(await mirror.resolveRevision(url, 'main'), main);
    assert.equal(await mirror.resolveRevision(url, 'charts'), onBranch);
    assert.equal(await mirror.resolveRevision(url, 'v1.0.0'), main);
    assert.equal(await mirror.resolveRevision(url, main.slice(0, 12)), main);
    await assert.rejects(mirror.resolveRevision(url, 'nope'), /ref nope not found/);
    await assert.rejects(mirror.resolveRevision(url, '--output=/tmp/x'), /not a valid ref name/);
  });

  it('lists the newest commits between two revisions within a limit, and counts them all', async () => {
    const from = git('rev-parse', 'HEAD');
    const made: string[] = [];
    for (const n of [1, 2, 3]) {
      await writeFile(join(work, 'count.txt'), `${n}\n`);
      made.push(commit(`count ${n}`));
    }
    await mirror.fetch(url);
    const to = made.at(-1) as string;
    assert.equal(await mirror.countBetween(url, from, to), 3);
    assert.deepEqual(
      (await mirror.commitsBetween(url, from, to, 2)).map((c) => c.sha),
      made.slice(1),
    );
  });

  it('reports an unreachable remote as a GitOperationError', async () => {
    await assert.rejects(mirror.fetch(`file://${join(root, 'missing.git')}`), GitOperationError);
  });

  it("follows the remote's default branch (HEAD) when no ref is given, as git clone does", async () => {
    const trunkRoot = join(root, 'trunk');
    const trunkWork = join(trunkRoot, 'work');
    const trunkUrl = `file://${join(trunkRoot, 'app.git')}`;
    execFileSync('git', ['init', '-q', '--bare', '-b', 'trunk', join(trunkRoot, 'app.git')]);
    execFileSync('git', ['init', '-q', '-b', 'trunk', trunkWork]);
    const tg = (...args: string[]) => execFileSync('git', args, { cwd: trunkWork, encoding: 'utf8' }).trim();
    await writeFile(join(trunkWork, 'a.txt'), 'a\n');
    tg('add', '-A');
    tg('-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'commit', '-q', '-m', 'on trunk');
    tg('push', '-q', trunkUrl, 'HEAD:trunk');
    await mirror.fetch(trunkUrl);
    assert.deepEqual(await mirror.resolveRef(trunkUrl, {}), { sha: tg('rev-parse', 'HEAD'), name: 'trunk' });
  });

  it("moves to the remote's new default branch on a later fetch, not the one seen at clone time", async () => {
    const movedRoot = join(root, 'moved');
    const bare = join(movedRoot, 'app.git');
    const movedWork = join(movedRoot, 'work');
    const movedUrl = `file://${bare}`;
    execFileSync('git', ['init', '-q', '--bare', '-b', 'master', bare]);
    execFileSync('git', ['init', '-q', '-b', 'master', movedWork]);
    const mg = (...args: string[]) => execFileSync('git', args, { cwd: movedWork, encoding: 'utf8' }).trim();
    const commitOn = async (branch: string, text: string) => {
      await writeFile(join(movedWork, 'a.txt'), text);
      mg('add', '-A');
      mg('-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'commit', '-q', '-m', text);
      mg('push', '-q', movedUrl, `HEAD:${branch}`);
      return mg('rev-parse', 'HEAD');
    };
    const onMaster = await commitOn('master', 'old default\n');
    await mirror.fetch(movedUrl, { followHead: true });
    assert.deepEqual(await mirror.resolveRef(movedUrl, {}), { sha: onMaster, name: 'master' });
    const onMain = await commitOn('main', 'new default\n');
    execFileSync('git', ['symbolic-ref', 'HEAD', 'refs/heads/main'], { cwd: bare });
    await mirror.fetch(movedUrl, { followHead: true });
    assert.deepEqual(await mirror.resolveRef(movedUrl, {}), { sha: onMain, name: 'main' });
  });
});
