import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_SOURCE_SCHEMES,
  GitMirror,
  GitOperationError,
  SourceNotAllowedError,
  SourcePolicy,
  pinnedGitConfig,
} from './index.js';
import { HttpGitServer } from './testing/http-git-server.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * DNS as an adapter that rebinds: the first answer is the test server on 127.0.0.1 (a Git server
 * on the node is allowed), every later one the cloud's metadata address. `.test` names exist in
 * no real DNS (RFC 6761), so git can only reach the server through the address that was checked.
 */
function rebinding(): { resolve: (host: string) => Promise<string[]>; asked: () => number } {
  let asked = 0;
  return {
    resolve: () => {
      asked++;
      return Promise.resolve(asked === 1 ? ['127.0.0.1'] : ['169.254.169.254']);
    },
    asked: () => asked,
  };
}

// DNS rebinding against GitMirror: the source policy resolves a remote's name once and checks
// it; git (over smart HTTP with git-http-backend, and over git:// with `git daemon`, both real
// and on loopback) connects to exactly that address and never asks DNS itself.
describe('GitMirror connects to the address the policy checked', () => {
  let root: string;
  let http: HttpGitServer;
  let daemon: ChildProcess;
  let daemonPort = 0;
  let redirector: Server;
  let sha = '';
  const work = () => join(root, 'work');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: work(), encoding: 'utf8' }).trim();
  const commit = (message: string) => {
    git(
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
    git('push', '-q', join(root, 'app.git'), 'HEAD:main');
    return git('rev-parse', 'HEAD');
  };
  const mirrorWith = (resolve: (host: string) => Promise<string[]>, cache: string) =>
    new GitMirror(
      join(root, cache),
      10_000,
      {},
      { policy: new SourcePolicy({ schemes: DEFAULT_SOURCE_SCHEMES, checkAddresses: true, resolve }) },
    );

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-dns-pinning-'));
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'app.git')]);
    execFileSync('git', ['init', '-q', '-b', 'main', work()]);
    sha = commit('first');
    http = await HttpGitServer.start(root);
    daemonPort = await freePort();
    daemon = spawn(
      'git',
      [
        'daemon',
        '--reuseaddr',
        `--base-path=${root}`,
        '--export-all',
        '--listen=127.0.0.1',
        `--port=${daemonPort}`,
        root,
      ],
      { stdio: 'ignore' },
    );
    // The daemon takes a moment to listen; cloning by address is the readiness probe.
    const probe = new GitMirror(join(root, 'probe'));
    for (let i = 0; ; i++) {
      try {
        await probe.fetch(`git://127.0.0.1:${daemonPort}/app.git`);
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // A server that sends every request on to the real one: a redirect's host is never checked.
    redirector = createHttpServer((req, res) =>
      res.writeHead(301, { location: `${http.baseUrl}${req.url ?? '/'}` }).end(),
    );
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    daemon.kill();
    await http.stop();
    redirector.closeAllConnections();
    await new Promise((resolve) => redirector.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it('over HTTP: clones through the checked address, and refuses the name once it rebinds', async () => {
    const dns = rebinding();
    const port = new URL(http.baseUrl).port;
    const url = `http://rebind.capstan.test:${port}/app.git`;
    const mirror = mirrorWith(dns.resolve, 'cache-http');
    await mirror.fetch(url);
    assert.equal(await mirror.resolve(url, { branch: 'main' }), sha);
    assert.equal(dns.asked(), 1, 'the name is resolved once per fetch, by the policy');

    commit('second');
    const seen = http.seenAuthorization.length;
    await assert.rejects(mirror.fetch(url), (e: unknown) => {
      assert.ok(e instanceof SourceNotAllowedError, String(e));
      assert.match(e.message, /rebind\.capstan\.test resolves to 169\.254\.169\.254, a link-local/);
      return true;
    });
    assert.equal(http.seenAuthorization.length, seen, 'nothing reached the server');
    assert.equal(await mirror.resolve(url, { branch: 'main' }), sha, 'the mirror kept what it had');
  });

  it('over git://: fetches from the checked address literally', async () => {
    const dns = rebinding();
    const url = `git://rebind.capstan.test:${daemonPort}/app.git`;
    const mirror = mirrorWith(dns.resolve, 'cache-daemon');
    await mirror.fetch(url);
    assert.equal(await mirror.resolve(url, { branch: 'main' }), git('rev-parse', 'HEAD'));
    await assert.rejects(mirror.fetch(url), /resolves to 169\.254\.169\.254/);
    assert.equal(dns.asked(), 2);
  });

  it('does not follow an HTTP redirect, whose host nobody checked', async () => {
    const port = (redirector.address() as AddressInfo).port;
    const url = `http://moved.capstan.test:${port}/app.git`;
    const seen = http.seenAuthorization.length;
    const mirror = mirrorWith(() => Promise.resolve(['127.0.0.1']), 'cache-redirect');
    await assert.rejects(mirror.fetch(url), (e: unknown) => {
      assert.ok(e instanceof GitOperationError, String(e));
      return true;
    });
    assert.equal(http.seenAuthorization.length, seen, 'the redirect target was never asked');
  });

  it('fails a name that resolves to nothing instead of letting git resolve it', async () => {
    const url = `${http.baseUrl.replace('127.0.0.1', 'nowhere.capstan.test')}/app.git`;
    const seen = http.seenAuthorization.length;
    const mirror = mirrorWith(() => Promise.resolve([]), 'cache-nowhere');
    await assert.rejects(mirror.fetch(url), /Could not resolve host: nowhere\.capstan\.test/);
    assert.equal(http.seenAuthorization.length, seen);
  });

  it('leaves a URL the operator rewrites to a mirror alone, resolvable or not', async () => {
    const mirror = new GitMirror(
      join(root, 'cache-rewritten'),
      10_000,
      { 'https://git.example.invalid/': `${http.baseUrl}/` },
      {
        policy: new SourcePolicy({
          schemes: DEFAULT_SOURCE_SCHEMES,
          checkAddresses: true,
          resolve: () => Promise.resolve([]),
        }),
      },
    );
    await mirror.fetch('https://git.example.invalid/app.git');
    assert.equal(
      await mirror.resolve('https://git.example.invalid/app.git', { branch: 'main' }),
      git('rev-parse', 'HEAD'),
    );
  });

  it('writes the pins git reads', () => {
    const checked = { host: 'git.example.com', addresses: ['192.0.2.7', '2001:db8::7'] };
    assert.deepEqual(pinnedGitConfig('https://git.example.com/org/app.git', checked), [
      ['http.curloptResolve', 'git.example.com:443:192.0.2.7,[2001:db8::7]'],
      ['http.followRedirects', 'false'],
    ]);
    assert.deepEqual(pinnedGitConfig('http://git.example.com:8080/app', checked)[0], [
      'http.curloptResolve',
      'git.example.com:8080:192.0.2.7,[2001:db8::7]',
    ]);
    assert.deepEqual(pinnedGitConfig('git://git.example.com/app.git', checked), [
      ['url.git://192.0.2.7/app.git.insteadOf', 'git://git.example.com/app.git'],
    ]);
    // ssh resolves by itself; an address literal needs no pin.
    assert.deepEqual(pinnedGitConfig('ssh://git@git.example.com/app.git', checked), []);
    assert.deepEqual(
      pinnedGitConfig('https://192.0.2.7/app.git', { host: '192.0.2.7', addresses: ['192.0.2.7'] }),
      [],
    );
  });
});
