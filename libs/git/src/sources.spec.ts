import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitMirror, GitOperationError, buildIgnore, keysFromSecret } from './index.js';
import { HttpGitServer } from './testing/http-git-server.js';
import { SshGitServer } from './testing/ssh-git-server.js';
import { envWith } from './testing/process-env.js';

// Real git throughout: a bare origin, a work tree we commit, tag and sign in, a mirror that reads it.
describe('GitMirror sources', () => {
  let root: string;
  let work: string;
  let url: string;
  let mirror: GitMirror;
  let gnupg: string;
  const env = () => envWith({ GNUPGHOME: gnupg });
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: work, encoding: 'utf8', env: env() }).trim();
  // `signWith` holds `-c` settings; when given, the commit is signed (-S).
  const commit = async (msg: string, files: Record<string, string>, signWith?: string[]) => {
    for (const [p, c] of Object.entries(files)) {
      await mkdir(join(work, p, '..'), { recursive: true });
      await writeFile(join(work, p), c);
    }
    git('add', '-A');
    git(
      '-c',
      'user.name=Ada',
      '-c',
      'user.email=ada@example.com',
      ...(signWith ?? []),
      'commit',
      ...(signWith ? ['-S'] : []),
      '-q',
      '--allow-empty',
      '-m',
      msg,
    );
    git('push', '-q', 'origin', 'HEAD:main');
    return git('rev-parse', 'HEAD');
  };
  const tag = (name: string) => {
    git('tag', name);
    git('push', '-q', 'origin', `refs/tags/${name}`);
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-src-'));
    work = join(root, 'work');
    gnupg = join(root, 'gnupg');
    await mkdir(gnupg);
    await chmod(gnupg, 0o700);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'app.git')]);
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    url = `file://${join(root, 'app.git')}`;
    git('remote', 'add', 'origin', url);
    mirror = new GitMirror(join(root, 'cache'));
  });
  after(async () => {
    execFileSync('gpgconf', ['--kill', 'all'], { env: env() });
    await rm(root, { recursive: true, force: true });
  });

  it('follows the highest tag in a semver range, and moves when a higher one is pushed', async () => {
    await commit('one', { 'a.yaml': '1' });
    tag('v1.0.0');
    const second = await commit('two', { 'a.yaml': '2' });
    tag('v1.2.0');
    await commit('three', { 'a.yaml': '3' });
    tag('v2.0.0');
    tag('not-a-version');
    await mirror.fetch(url);
    assert.deepEqual(await mirror.resolveRef(url, { semver: '^1.0.0' }), { sha: second, name: 'v1.2.0' });
    const fourth = await commit('four', { 'a.yaml': '4' });
    tag('v1.3.0');
    await mirror.fetch(url);
    assert.deepEqual(await mirror.resolveRef(url, { semver: '^1.0.0' }), { sha: fourth, name: 'v1.3.0' });
    await assert.rejects(mirror.resolveRef(url, { semver: '>=3' }), /no tag satisfies semver range ">=3"/);
    // Branch, tag and commit refs resolve as before, with their names.
    assert.deepEqual(await mirror.resolveRef(url, { tag: 'v1.2.0' }), { sha: second, name: 'v1.2.0' });
    assert.deepEqual(await mirror.resolveRef(url, { branch: 'main' }), { sha: fourth, name: 'main' });
    assert.deepEqual(await mirror.resolveRef(url, { commit: second }), { sha: second });
  });

  it('leaves out what spec.ignore and .capstanignore ignore', async () => {
    const sha = await commit('ignore rules', {
      '.capstanignore': 'deploy/secrets/\n*.tmpl.yaml\n',
      'deploy/app.yaml': 'a',
      'deploy/app.tmpl.yaml': 'b',
      'deploy/secrets/s.yaml': 'c',
      'deploy/dev/dev.yaml': 'd',
    });
    await mirror.fetch(url);
    const ignored = buildIgnore('deploy/dev/\n', await mirror.readFile(url, sha, '.capstanignore'));
    const files = await mirror.readTree(url, sha, 'deploy', (f) => f.endsWith('.yaml') && !ignored(f));
    assert.deepEqual(
      files.map((f) => f.path),
      ['deploy/app.yaml'],
    );
    assert.equal(await mirror.readFile(url, sha, 'missing.txt'), undefined);
  });

  it('verifies OpenPGP-signed commits against the Secret keys only', async () => {
    const gpg = (...args: string[]) =>
      execFileSync('gpg', ['--batch', ...args], {
        env: env(),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    gpg('--passphrase', '', '--quick-gen-key', 'Ada Signer <ada@example.com>', 'ed25519', 'sign', 'never');
    gpg('--passphrase', '', '--quick-gen-key', 'Mallory <mallory@example.com>', 'ed25519', 'sign', 'never');
    const fpr = (who: string) =>
      /^fpr:+([0-9A-F]+):/m.exec(gpg('--with-colons', '--list-keys', who))?.[1] ?? assert.fail('no fpr');
    const ada = fpr('ada@example.com');
    const keys = { openpgp: [gpg('--armor', '--export', ada)] };
    const signed = await commit('signed', {}, ['-c', 'gpg.format=openpgp', '-c', `user.signingkey=${ada}`]);
    const byMallory = await commit('mallory', {}, ['-c', `user.signingkey=${fpr('mallory@example.com')}`]);
    const unsigned = await commit('unsigned', {});
    await mirror.fetch(url);
    assert.deepEqual(await mirror.verifyCommit(url, signed, keys), {
      status: 'verified',
      format: 'openpgp',
      signer: 'Ada Signer <ada@example.com>',
      keyId: ada,
    });
    assert.equal((await mirror.verifyCommit(url, byMallory, keys)).status, 'invalid');
    assert.deepEqual(await mirror.verifyCommit(url, unsigned, keys), { status: 'unsigned' });
  });

  it('verifies SSH-signed commits against allowed_signers', async () => {
    const key = (name: string) => {
      const file = join(root, name);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
      return file;
    };
    const ada = key('ada_ssh');
    const eve = key('eve_ssh');
    const allowed = `ada@example.com ${(await readFile(`${ada}.pub`, 'utf8')).trim()}\n`;
    const keys = keysFromSecret('signers', { allowed_signers: allowed });
    const ssh = (file: string) => ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${file}`];
    const good = await commit('ssh signed', {}, ssh(ada));
    const bad = await commit('ssh signed by eve', {}, ssh(eve));
    await mirror.fetch(url);
    const verified = await mirror.verifyCommit(url, good, keys);
    assert.equal(verified.status, 'verified');
    assert.equal(verified.format, 'ssh');
    assert.equal(verified.signer, 'ada@example.com');
    assert.match(verified.keyId ?? '', /^SHA256:/);
    assert.deepEqual(
      { ...(await mirror.verifyCommit(url, bad, keys)), keyId: undefined },
      { status: 'invalid', format: 'ssh', keyId: undefined },
    );
  });

  it('authenticates over smart HTTP with basic auth, never leaking the password', async () => {
    const server = await HttpGitServer.start(root, { username: 'deploy', password: 's3cret-pw' });
    try {
      const httpUrl = server.url('app.git');
      const err = await mirror.fetch(httpUrl).then(
        () => assert.fail('fetch without credentials succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof GitOperationError);
      assert.match(err.message, /could not read Username|Authentication failed/);
      await assert.rejects(
        mirror.fetch(httpUrl, { credentials: { kind: 'basic', username: 'deploy', password: 'wrong' } }),
        (e: unknown) => e instanceof GitOperationError && !e.message.includes('wrong'),
      );
      await mirror.fetch(httpUrl, {
        credentials: { kind: 'basic', username: 'deploy', password: 's3cret-pw' },
      });
      assert.equal(
        await mirror.resolve(httpUrl, { branch: 'main' }),
        execFileSync('git', ['rev-parse', 'HEAD'], { cwd: work, encoding: 'utf8' }).trim(),
      );
      // The mirror's config keeps the plain URL; credentials lived only in the process environment.
      const config = await readFile(join(mirror.dirFor(httpUrl), 'config'), 'utf8');
      assert.ok(!config.includes('s3cret') && !config.includes('Authorization'));
    } finally {
      await server.stop();
    }
  });

  it('authenticates with a bearer token', async () => {
    const server = await HttpGitServer.start(root, { bearerToken: 'tok-123' });
    try {
      const httpUrl = server.url('app.git');
      await mirror.fetch(httpUrl, { credentials: { kind: 'bearer', token: 'tok-123' } });
      assert.ok(server.seenAuthorization.includes('Bearer tok-123'));
    } finally {
      await server.stop();
    }
  });

  it('fetches over SSH with a key and known_hosts, and refuses an unknown host key', async () => {
    const server = await SshGitServer.start(join(root, 'sshd'));
    try {
      const sshUrl = server.url(join(root, 'app.git'));
      const credentials = { kind: 'ssh' as const, identity: server.identity, knownHosts: server.knownHosts };
      const wrongHost = `[127.0.0.1]:${server.port} ${(await readFile(join(root, 'ada_ssh.pub'), 'utf8')).trim()}\n`;
      await assert.rejects(
        mirror.fetch(sshUrl, { credentials: { ...credentials, knownHosts: wrongHost } }),
        /Host key verification failed/,
      );
      await mirror.fetch(sshUrl, { credentials });
      assert.equal(
        await mirror.resolve(sshUrl, { branch: 'main' }),
        execFileSync('git', ['rev-parse', 'HEAD'], { cwd: work, encoding: 'utf8' }).trim(),
      );
    } finally {
      await server.stop();
    }
  });
});
