import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRepository } from '@capstan/git/testing';
import { DockerRegistry } from '@capstan/testing';
import { run } from '../main.js';
import { renderImageTags } from './images.js';
import { renderWhy, type WhyDecision } from './why.js';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    fluxcd.io/automated: "true"
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0 # built by CI
`;

// release, lock and unlock against a real Git repository; images list against distribution 2.8.
describe('capstan release, lock, unlock, images list', () => {
  let root: string;
  let repo: TestRepository;
  let registry: DockerRegistry;
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await run(
      argv,
      (s) => lines.push(s),
      (s) => lines.push(s),
      {},
    );
    return { code, text: lines.join('\n') };
  };
  const file = () =>
    execFileSync('git', ['--git-dir', repo.bare, 'show', 'main:deploy/web.yaml'], { encoding: 'utf8' });
  const last = (format: string) =>
    execFileSync('git', ['--git-dir', repo.bare, 'log', '-1', `--format=${format}`, 'main'], {
      encoding: 'utf8',
    }).trim();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'capstan-cli-images-'));
    repo = await TestRepository.create(root, 'fleet');
    await repo.write({ 'deploy/web.yaml': DEPLOYMENT });
    repo.commit('web 1.0.0');
    registry = await DockerRegistry.start();
    await registry.push('acme/web', '1.0.0', { created: '2026-01-01T00:00:00Z' });
    await registry.push('acme/web', '1.1.0', { created: '2026-02-01T00:00:00Z' });
  });
  after(async () => {
    await registry.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('releases an image as the person, with the Flux v1 message', async () => {
    const git = ['--repo', repo.fileUrl, '--path', 'deploy', '--user', 'Grace Hopper <grace@example.com>'];
    const r = await cli('release', 'shop/deploy/web', '--image', 'ghcr.io/acme/web:1.1.0', ...git);
    assert.equal(r.code, 0, r.text);
    assert.equal(file(), DEPLOYMENT.replace('web:1.0.0', 'web:1.1.0'));
    assert.equal(
      last('%an <%ae>|%s'),
      'Grace Hopper <grace@example.com>|Release ghcr.io/acme/web:1.1.0 to shop:deployment/web',
    );
  });

  it('locks with a message, refuses a release while locked, unlocks', async () => {
    const git = ['--repo', repo.fileUrl, '--path', 'deploy', '--user', 'Ada <ada@example.com>'];
    assert.equal((await cli('lock', 'shop/deployment/web', '-m', 'incident 7', ...git)).code, 0);
    assert.match(
      file(),
      /fluxcd\.io\/locked: "true"\n\s+fluxcd\.io\/locked_user: Ada\n\s+fluxcd\.io\/locked_msg: incident 7/,
    );
    assert.equal(last('%s'), 'Locked: shop:deployment/web');
    const refused = await cli('release', 'shop/deployment/web', '--image', 'ghcr.io/acme/web:2.0.0', ...git);
    assert.equal(refused.code, 2);
    assert.match(refused.text, /locked by Ada: incident 7; unlock it or use --force/);
    assert.equal((await cli('unlock', 'shop/deployment/web', ...git)).code, 0);
    assert.doesNotMatch(file(), /locked/);
    assert.match(file(), /image: ghcr\.io\/acme\/web:1\.1\.0 # built by CI/);
  });

  it('lists tags newest build first with digests', async () => {
    const r = await cli('images', 'list', `${registry.host}/acme/web`);
    assert.equal(r.code, 0, r.text);
    const rows = r.text.split('\n');
    assert.match(rows[0] ?? '', /^TAG\s+CREATED\s+DIGEST$/);
    assert.match(rows[1] ?? '', /^1\.1\.0\s+2026-02-01T00:00:00Z\s+sha256:[0-9a-f]{64}$/);
    assert.match(rows[2] ?? '', /^1\.0\.0\s+2026-01-01T00:00:00Z/);
    assert.equal(renderImageTags([]), 'No tags.');
  });
});

describe('capstan why', () => {
  const base = {
    time: '2026-12-04T10:00:02Z',
    outcome: 'succeeded',
    reason: 'x',
    correlationId: 'image-pushed:abc',
    targets: [],
  };
  it('tells the push, the policy pick, the commit and the apply in order', () => {
    const chain: WhyDecision[] = [
      {
        ...base,
        seq: 9,
        action: 'applied',
        message: 'applied revision main@sha1:c0ffee: 1 configured',
        actor: { kind: 'bot', name: 'Capstan' },
        source: { revision: 'main@sha1:c0ffee', sha: 'c0ffee', commitMessage: 'Auto-release r/app:3.0.1' },
        decidedBy: { kind: 'Sync', namespace: 'default', name: 'fleet' },
        image: null,
        evidence: {},
      },
      {
        ...base,
        seq: 7,
        action: 'image.updated',
        message: 'chart-image ...',
        actor: { kind: 'person', name: 'ci-bot' },
        source: {
          revision: 'main@sha1:c0ffee',
          sha: 'c0ffee',
          commitMessage: 'Auto-release r/app:3.0.1\n\nCapstan-Correlation-Id: image-pushed:abc',
        },
        decidedBy: { kind: 'ImageUpdateAutomation', namespace: 'prod', name: 'fleet' },
        image: { repository: 'r/app', tag: '3.0.1' },
        evidence: {
          push: {
            image: 'r/app:3.0.1',
            digest: 'sha256:1',
            pushedAt: '2026-12-04T10:00:00Z',
            pusher: 'ci-bot',
          },
          policy: 'fluxcd.io/tag.chart-image: semver:~3.0',
          why: '3.0.1 is the highest of 2 tag(s) in semver range ~3.0',
          candidates: { considered: 3, matched: 2 },
        },
      },
    ];
    assert.equal(
      renderWhy({ namespace: 'prod', kind: 'Deployment', name: 'podinfo' }, chain),
      [
        'prod/Deployment/podinfo runs r/app:3.0.1 because:',
        '  1. pushed   r/app:3.0.1 sha256:1 at 2026-12-04T10:00:00Z by ci-bot',
        '  2. policy   fluxcd.io/tag.chart-image: semver:~3.0: 3.0.1 is the highest of 2 tag(s) in semver range ~3.0 (3 tag(s) known)',
        '  3. commit   main@sha1:c0ffee "Auto-release r/app:3.0.1" by ci-bot',
        '  4. applied  Sync default/fleet at 2026-12-04T10:00:02Z: applied revision main@sha1:c0ffee: 1 configured',
        '  correlation id: image-pushed:abc',
      ].join('\n'),
    );
    assert.equal(
      renderWhy({ namespace: 'a', kind: 'B', name: 'c' }, []),
      'No decision about a/B/c is recorded.',
    );
  });
});
