import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpGitServer, TestRepository } from '@capstan/git/testing';
import { GitWorkspace } from './git-workspace.js';

const bot = { name: 'Capstan', email: 'capstan@capstan.dev' };

// The automation's kept clone against a real bare repository: a person pushing between our
// commit and our push loses nothing (fetch, rebase, push), and a conflict is reported, not forced.
describe('automation git workspace', () => {
  let root: string;
  let repo: TestRepository;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-ws-'));
    repo = await TestRepository.create(root, 'fleet');
    await repo.write({ 'deploy/app.yaml': 'image: app:1\n', 'deploy/other.yaml': 'x: 1\n' });
    repo.commit('initial');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('rebases its commit onto a concurrent human push and keeps both', async () => {
    const ws = GitWorkspace.at(join(root, 'cache'), repo.fileUrl, 'main');
    await ws.sync();
    assert.deepEqual(await ws.yamlFiles('deploy'), ['deploy/app.yaml', 'deploy/other.yaml']);
    await ws.write('deploy/app.yaml', 'image: app:2\n');
    await ws.commit(['deploy/app.yaml'], 'Auto-release app:2', bot, bot);
    // Meanwhile a person pushes another file.
    await repo.write({ 'deploy/other.yaml': 'x: 2\n' });
    const human = repo.commit('human change');
    assert.equal((await ws.push('main')).kind, 'rejected');
    assert.equal(await ws.rebase(), true);
    const pushed = await ws.push('main');
    if (pushed.kind !== 'pushed') return assert.fail(pushed.detail);
    const info = await ws.commitInfo('HEAD');
    const log = execFileSync('git', ['--git-dir', repo.bare, 'log', '--format=%s|%an', 'main'], {
      encoding: 'utf8',
    });
    assert.deepEqual(log.trim().split('\n'), [
      'Auto-release app:2|Capstan',
      'human change|Ada',
      'initial|Ada',
    ]);
    assert.deepEqual(info.parents, [human]);
  });

  it("retries when a person's push lands on the server between its read of the branch and its push", async () => {
    // git's own smart-HTTP backend; the person's commit is pushed when our pack arrives, after
    // our client saw the old tip, so the server refuses: `cannot lock ref ... but expected ...`.
    const racing = await TestRepository.create(root, 'racing');
    await racing.write({ 'deploy/app.yaml': 'image: app:1\n' });
    racing.commit('initial');
    let human: string | undefined;
    let packs = 0;
    const server = await HttpGitServer.start(root, undefined, {
      beforePush: async () => {
        packs++;
        if (human) return;
        await racing.write({ 'deploy/notes.yaml': 'owner: team-b\n' });
        human = racing.commit('hand over to team B');
      },
    });
    try {
      const ws = GitWorkspace.at(join(root, 'cache-racing'), server.url('racing.git'), 'main');
      await ws.sync();
      await ws.write('deploy/app.yaml', 'image: app:2\n');
      await ws.commit(['deploy/app.yaml'], 'Auto-release app:2', bot, bot);
      assert.equal((await ws.push('main')).kind, 'rejected');
      assert.equal(await ws.rebase(), true);
      assert.equal((await ws.push('main')).kind, 'pushed');
      assert.equal(packs, 2);
      const log = execFileSync('git', ['--git-dir', racing.bare, 'log', '--format=%s|%P', 'main'], {
        encoding: 'utf8',
      });
      const [ours, theirs] = log.trim().split('\n');
      assert.equal(ours, `Auto-release app:2|${human}`);
      assert.match(theirs ?? '', /^hand over to team B\|/);
    } finally {
      await server.stop();
    }
  });

  it('signs its commits with an SSH key when given one', async () => {
    const keyFile = join(root, 'signing');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'capstan', '-f', keyFile]);
    const ws = GitWorkspace.at(join(root, 'cache-signed'), repo.fileUrl, 'main');
    await ws.sync();
    await ws.write('deploy/other.yaml', 'x: 3\n');
    await ws.commit(['deploy/other.yaml'], 'signed', bot, bot, await readFile(keyFile, 'utf8'));
    const allowed = join(root, 'allowed_signers');
    await writeFile(allowed, `capstan@capstan.dev ${await readFile(`${keyFile}.pub`, 'utf8')}`);
    const verified = execFileSync(
      'git',
      ['-C', ws.dir, '-c', `gpg.ssh.allowedSignersFile=${allowed}`, 'log', '-1', '--format=%G?|%GS'],
      { encoding: 'utf8' },
    ).trim();
    assert.equal(verified, 'G|capstan@capstan.dev');
  });

  it('reports a conflicting human change instead of overwriting it, and starts clean next time', async () => {
    const ws = GitWorkspace.at(join(root, 'cache'), repo.fileUrl, 'main');
    await ws.sync();
    await ws.write('deploy/app.yaml', 'image: app:3\n');
    await ws.commit(['deploy/app.yaml'], 'Auto-release app:3', bot, bot);
    // A person, in a clone of their own that is up to date, rolls the image back.
    const human = join(root, 'human');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: human, encoding: 'utf8' });
    execFileSync('git', ['clone', '-q', repo.fileUrl, human]);
    await writeFile(join(human, 'deploy/app.yaml'), 'image: app:1 # rolled back\n');
    git('-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'commit', '-qam', 'roll back app');
    git('push', '-q', 'origin', 'HEAD:main');
    assert.equal((await ws.push('main')).kind, 'rejected');
    assert.equal(await ws.rebase(), false);
    await writeFile(join(ws.dir, 'stray.yaml'), 'left: behind\n');
    await ws.sync();
    assert.equal(await ws.read('deploy/app.yaml'), 'image: app:1 # rolled back\n');
    assert.deepEqual(await ws.yamlFiles('.'), ['deploy/app.yaml', 'deploy/other.yaml']);
    const history: [string, string | undefined][] = [];
    for await (const h of ws.history('deploy/app.yaml')) history.push([h.author.name, await h.after()]);
    assert.deepEqual(history, [
      ['Ada', 'image: app:1 # rolled back\n'],
      ['Capstan', 'image: app:2\n'],
      ['Ada', 'image: app:1\n'],
    ]);
  });

  it('never reads through a symlink, a file over the size limit or a path outside the clone', async () => {
    const bare = join(root, 'hostile.git');
    const work = join(root, 'hostile-work');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8' });
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    await mkdir(join(work, 'deploy'), { recursive: true });
    await writeFile(join(work, 'deploy/app.yaml'), 'image: app:1\n');
    await writeFile(join(work, 'deploy/huge.yaml'), `# ${'x'.repeat(5000)}\n`);
    // Another automation's clone, or any file the service can write.
    await symlink('../../cache/elsewhere.yaml', join(work, 'deploy/link.yaml'));
    git('add', '-A');
    git('-c', 'user.name=Eve', '-c', 'user.email=eve@example.com', 'commit', '-qm', 'hostile');
    git('push', '-q', `file://${bare}`, 'HEAD:main');
    const ws = GitWorkspace.at(join(root, 'cache-hostile'), `file://${bare}`, 'main', 1000);
    await ws.sync();
    assert.deepEqual(await ws.yamlFiles('deploy'), ['deploy/app.yaml', 'deploy/huge.yaml']);
    await assert.rejects(
      ws.read('deploy/huge.yaml'),
      /deploy\/huge.yaml: 5003 bytes is over the limit of 1000 bytes per file \(limit maxFileBytes\)/,
    );
    await assert.rejects(ws.read('deploy/link.yaml'), /not a regular file/);
    await assert.rejects(ws.yamlFiles('../..'), /spec.update.path \.\.\/\.\. escapes the repository/);
    assert.equal(await ws.read('deploy/app.yaml'), 'image: app:1\n');
  });
});
