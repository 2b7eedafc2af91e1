import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  CACHE_MARKER,
  DEFAULT_SOURCE_SCHEMES,
  GitContentError,
  GitMirror,
  MAX_COMMIT_MESSAGE,
  SourceNotAllowedError,
  parseCommitRecord,
  SourcePolicy,
  markCacheDir,
} from './index.js';

interface UrlCase {
  url: string;
  schemes?: string[];
  refused?: string;
  hidden?: string;
}
interface TreeCase {
  name: string;
  links: Record<string, string>;
  error: { file: string; match: string };
}

const corpus = parse(
  await readFile(new URL('../fixtures/hostile/sources.yaml', import.meta.url), 'utf8'),
) as { urls: UrlCase[]; trees: TreeCase[] };

// The corpus of hostile source URLs and trees (fixtures/hostile/sources.yaml): each URL is refused
// (or allowed) by the same SourcePolicy the services use, with the file system it would reach
// laid out for real; each tree is a real commit read by GitMirror.readTree.
describe('hostile sources', () => {
  let host: string;
  before(async () => {
    host = await mkdtemp(join(tmpdir(), 'capstan-hostile-host-'));
    await mkdir(join(host, 'cache/0123.git'), { recursive: true });
    await mkdir(join(host, 'marked/4567.git'), { recursive: true });
    await markCacheDir(join(host, 'marked'));
    await mkdir(join(host, 'repos/team.git'), { recursive: true });
    await mkdir(join(host, 'links'), { recursive: true });
    await symlink('../cache', join(host, 'links/cache'));
  });
  after(() => rm(host, { recursive: true, force: true }));

  it('has the cases, each URL once', () => {
    assert.ok(corpus.urls.length >= 40 && corpus.trees.length >= 5);
    assert.equal(new Set(corpus.urls.map((c) => c.url)).size, corpus.urls.length);
  });

  for (const c of corpus.urls) {
    const label = JSON.stringify(c.url).slice(0, 80);
    it(`${c.refused ? 'refuses' : 'allows'} ${label}${c.schemes ? ` with ${c.schemes.join(',')}` : ''}`, async () => {
      const policy = new SourcePolicy({
        schemes: c.schemes ?? DEFAULT_SOURCE_SCHEMES,
        protectedDirs: [join(host, 'cache')],
        checkAddresses: true,
        // IP literals only: no name in this corpus is ever sent to a DNS server.
        resolve: (h) => Promise.resolve(isIP(h) ? [h] : []),
      });
      const url = c.url.replaceAll('$HOST', host);
      if (c.refused === undefined) {
        await policy.check(url);
        return;
      }
      await assert.rejects(policy.check(url), (e: unknown) => {
        assert.ok(e instanceof SourceNotAllowedError, String(e));
        assert.match(e.message, new RegExp(c.refused ?? ''));
        if (c.hidden) assert.ok(!e.message.includes(c.hidden), `${e.message} shows ${c.hidden}`);
        return true;
      });
    });
  }

  it('keeps at most 64 KiB of a commit message and 1 KiB of a name, saying so', () => {
    const record = ['a'.repeat(40), '', 'E'.repeat(5000), 'eve@example.com', '2026-12-04T00:00:00Z']
      .concat(['Eve', 'eve@example.com', '2026-12-04T00:00:00Z', `subject\n\n${'x'.repeat(10_000_000)}`])
      .join('\x1f');
    const info = parseCommitRecord(record);
    assert.equal(info.message.length < MAX_COMMIT_MESSAGE + 100, true);
    assert.match(info.message, /^subject\n\nx+… \(\d+ more characters not kept\)$/);
    assert.match(info.author.name, /^E{1024}… \(3976 more characters not kept\)$/);
  });

  it('marks a mirror cache when it first clones, so other services refuse it as a source', async () => {
    const cache = join(host, 'fresh-cache');
    const mirror = new GitMirror(cache, undefined, {}, { policy: SourcePolicy.permissive() });
    await assert.rejects(mirror.fetch(`file://${join(host, 'repos/team.git')}`));
    await markCacheDir(cache);
    // Marked once, however often a service starts or runs.
    assert.equal((await readFile(join(cache, CACHE_MARKER), 'utf8')).split('\n').filter(Boolean).length, 1);
    await assert.rejects(
      new SourcePolicy({ schemes: ['file'] }).check(`file://${cache}/anything.git`),
      /inside a Capstan cache folder/,
    );
  });

  describe('trees', () => {
    let root: string;
    let work: string;
    let url: string;
    const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8' }).trim();
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'capstan-hostile-tree-'));
      work = join(root, 'work');
      execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'app.git')]);
      execFileSync('git', ['init', '-q', '-b', 'main', work]);
      url = `file://${join(root, 'app.git')}`;
      git('remote', 'add', 'origin', url);
    });
    after(() => rm(root, { recursive: true, force: true }));

    for (const c of corpus.trees) {
      it(c.name, async () => {
        git('rm', '-rq', '--ignore-unmatch', '.');
        await mkdir(join(work, 'deploy'), { recursive: true });
        await mkdir(join(work, 'lib'), { recursive: true });
        await writeFile(join(work, 'deploy/cm.yaml'), 'kind: ConfigMap\n');
        await writeFile(join(work, 'lib/cm.yaml'), 'kind: ConfigMap\n');
        for (const [link, target] of Object.entries(c.links)) await symlink(target, join(work, link));
        git('add', '-A');
        git('-c', 'user.name=Eve', '-c', 'user.email=eve@example.com', 'commit', '-qm', c.name);
        git('push', '-qf', 'origin', 'HEAD:main');
        const mirror = new GitMirror(join(root, 'cache'));
        await mirror.fetch(url);
        const sha = await mirror.resolve(url, { branch: 'main' });
        await assert.rejects(
          mirror.readTree(url, sha, '', () => true),
          (e: unknown) => {
            assert.ok(e instanceof GitContentError, String(e));
            assert.equal(e.file, c.error.file);
            assert.match(e.message, new RegExp(c.error.match));
            return true;
          },
        );
      });
    }

    it('counts a symlinked file once per link, so links cannot multiply what is read', async () => {
      git('rm', '-rq', '--ignore-unmatch', '.');
      await mkdir(join(work, 'deploy'), { recursive: true });
      await writeFile(join(work, 'deploy/values.yaml'), '#'.repeat(1000));
      for (let i = 0; i < 10; i++) await symlink('values.yaml', join(work, `deploy/copy-${i}.yaml`));
      git('add', '-A');
      git('-c', 'user.name=Eve', '-c', 'user.email=eve@example.com', 'commit', '-qm', 'links');
      git('push', '-qf', 'origin', 'HEAD:main');
      const mirror = new GitMirror(join(root, 'cache-links'), undefined, {}, { maxTreeBytes: 5000 });
      await mirror.fetch(url);
      const sha = await mirror.resolve(url, { branch: 'main' });
      await assert.rejects(
        mirror.readTree(url, sha, '', () => true),
        /limit maxRepositoryBytes/,
      );
    });

    it('leaves files over maxFileBytes unread, symlinked ones too, and reads the rest', async () => {
      git('rm', '-rq', '--ignore-unmatch', '.');
      await mkdir(join(work, 'deploy'), { recursive: true });
      await writeFile(join(work, 'deploy/small.yaml'), 'kind: ConfigMap\n');
      await writeFile(join(work, 'deploy/huge.yaml'), '#'.repeat(5000));
      await symlink('huge.yaml', join(work, 'deploy/alias.yaml'));
      git('add', '-A');
      git('-c', 'user.name=Eve', '-c', 'user.email=eve@example.com', 'commit', '-qm', 'huge');
      git('push', '-qf', 'origin', 'HEAD:main');
      const mirror = new GitMirror(join(root, 'cache-small'), undefined, {}, { maxFileBytes: 1000 });
      await mirror.fetch(url);
      const sha = await mirror.resolve(url, { branch: 'main' });
      const files = await mirror.readTree(url, sha, 'deploy', () => true);
      assert.deepEqual(
        files.map((f) => [f.path, f.oversized, f.content.length]),
        [
          ['deploy/alias.yaml', 5000, 0],
          ['deploy/huge.yaml', 5000, 0],
          ['deploy/small.yaml', undefined, 16],
        ],
      );
      // Files under the per-file limit still add up: a commit of many of them is refused whole.
      const bounded = new GitMirror(
        join(root, 'cache-tree'),
        undefined,
        {},
        { maxFileBytes: 10_000, maxTreeBytes: 4096 },
      );
      await bounded.fetch(url);
      await assert.rejects(
        bounded.readTree(url, sha, '', () => true),
        (e: unknown) => {
          assert.ok(e instanceof GitContentError);
          assert.match(
            e.message,
            /hold 5025 bytes, over the limit of 4096 bytes a repository may hold \(limit maxRepositoryBytes\)/,
          );
          return true;
        },
      );
    });
  });
});
