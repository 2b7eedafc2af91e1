import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpGitServer, TestRepository } from '@capstan/git/testing';
import { RenderError } from './errors.js';
import { kustomizeBuild } from './kustomize.js';
import { RenderBudget } from './limits.js';
import type { Resolver } from './pinned-http.js';
import { materialize } from './repository.js';

// Remote bases (when an installation allows them) fetched by the real kustomize, which runs the
// real git against a real smart-HTTP Git server on 127.0.0.1, through the guard: the names below
// are `.test` names, which no DNS answers (RFC 6761), so kustomize reaches the server only
// through the address the guard checked and connected to.
describe('kustomize remote bases through the fetch guard', () => {
  let root: string;
  let server: HttpGitServer;
  let port = '';
  const dirs: string[] = [];

  /** DNS as an adapter: the given answers in turn, the last one for ever after. */
  function answers(...addresses: string[]): Resolver & { asked: () => number } {
    let asked = 0;
    const resolve: Resolver = () => {
      const address = addresses[Math.min(asked, addresses.length - 1)] ?? '127.0.0.1';
      asked++;
      return Promise.resolve([{ address, family: 4 }]);
    };
    return Object.assign(resolve, { asked: () => asked });
  }

  async function build(base: string, resolver: Resolver, maxBytes = 16 * 1024 * 1024) {
    const dir = await mkdtemp(join(tmpdir(), 'capstan-remote-bases-'));
    dirs.push(dir);
    await materialize([{ path: 'app/kustomization.yaml', content: `resources:\n- ${base}\n` }], dir);
    return kustomizeBuild('kustomize', dir, 'app', new RenderBudget(), {
      remoteBases: true,
      remoteFetch: { maxBytes, resolver },
    });
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-remote-base-server-'));
    const base = await TestRepository.create(root, 'base');
    await base.write({
      'app/kustomization.yaml': 'resources: [cm.yaml]\n',
      // Random, so git's compression cannot shrink it under the limit below.
      'app/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-remote}\ndata: {blob: "${randomBytes(48 * 1024).toString('base64')}"}\n`,
    });
    base.commit('a remote base');
    server = await HttpGitServer.start(root);
    port = new URL(server.baseUrl).port;
  });
  after(async () => {
    await server.stop();
    await rm(root, { recursive: true, force: true });
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('clones through the checked address; a name that rebinds to the metadata service is refused', async () => {
    const dns = answers('127.0.0.1', '169.254.169.254');
    const url = `http://bases.capstan.test:${port}/base.git//app?ref=main`;
    const objects = await build(url, dns);
    assert.deepEqual(
      objects.map((o) => o.object.metadata.name),
      ['from-remote'],
    );
    assert.equal(dns.asked(), 1, 'one answer for every connection of the build');

    const rebound = answers('169.254.169.254');
    const seen = server.seenAuthorization.length;
    await assert.rejects(build(url, rebound), (e: unknown) => {
      assert.ok(e instanceof RenderError, String(e));
      assert.equal(e.file, 'app/kustomization.yaml');
      assert.match(
        e.message,
        /kustomize build failed: http:\/\/bases\.capstan\.test:\d+\/base\.git\/\S*: bases\.capstan\.test resolves to 169\.254\.169\.254, a link-local, multicast or unspecified address; remote bases are not read from there/,
      );
      return true;
    });
    assert.equal(server.seenAuthorization.length, seen, 'nothing reached the server');
  });

  it('cuts off a remote base that brings in more than the limit, naming it', async () => {
    const url = `http://bases.capstan.test:${port}/base.git//app?ref=main`;
    await assert.rejects(build(url, answers('127.0.0.1'), 8 * 1024), (e: unknown) => {
      assert.ok(e instanceof RenderError, String(e));
      assert.match(
        e.message,
        /bases\.capstan\.test:\d+\/base\.git\/.*: remote bases brought in more than 8192 bytes \(limit maxRepositoryBytes\); cut off/,
      );
      return true;
    });
  });

  it('lets git use no transport that would connect by itself (ssh, git://)', async () => {
    await assert.rejects(
      build(`ssh://git@bases.capstan.test:${port}/base.git//app?ref=main`, answers('127.0.0.1')),
      (e: unknown) => {
        assert.ok(e instanceof RenderError, String(e));
        assert.match(e.message, /transport 'ssh' not allowed/);
        return true;
      },
    );
  });
});
