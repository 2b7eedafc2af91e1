import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseObjectPath, renderWho, run } from './index.js';

describe('capstan CLI', () => {
  it('parses namespaced and cluster-scoped object paths, refusing garbage', () => {
    assert.deepEqual(parseObjectPath('demo/Deployment/web'), {
      namespace: 'demo',
      kind: 'Deployment',
      name: 'web',
    });
    assert.deepEqual(parseObjectPath('Namespace/demo'), { namespace: '_', kind: 'Namespace', name: 'demo' });
    assert.throws(() => parseObjectPath('web'), /expected <namespace>\/<kind>\/<name>/);
    // Kinds as kubectl takes them: any case, short names, plurals.
    for (const typed of ['deploy', 'deployment', 'DEPLOYMENT', 'deployments', 'Deployment'])
      assert.equal(parseObjectPath(`demo/${typed}/web`).kind, 'Deployment');
    assert.equal(parseObjectPath('demo/hr/podinfo').kind, 'HelmRelease');
    assert.equal(parseObjectPath('demo/Widget/w').kind, 'Widget');
    assert.throws(() => parseObjectPath('a//b'), /empty segment/);
  });

  it('renders who deployed an object as a table', () => {
    const text = renderWho([
      {
        seq: 2,
        time: '2026-11-22T10:00:00.123Z',
        action: 'applied',
        outcome: 'succeeded',
        message: 'applied',
        objectAction: 'configured',
        revision: `main@sha1:${'a'.repeat(40)}`,
        sha: 'a'.repeat(40),
        repository: 'demo/app',
        commitMessage: 'scale web to 3\n\nbody',
        author: { name: 'Ada Lovelace', email: 'ada@example.com' },
        committer: { name: 'Ada Lovelace', email: 'ada@example.com' },
        actor: { kind: 'person', name: 'Ada Lovelace' },
      },
    ]);
    const [header, row] = text.split('\n');
    assert.match(header ?? '', /^TIME\s+ACTION\s+CHANGE\s+REVISION\s+AUTHOR/);
    assert.match(
      row ?? '',
      /2026-11-22T10:00:00Z\s+applied\s+configured\s+main@sha1:aaaaaaaaaaaa\s+Ada Lovelace <ada@example.com>/,
    );
    assert.match(row ?? '', /scale web to 3$/);
  });

  it('exits 2 with a clear message on a bad object path, 1 when the API is unreachable', async () => {
    const errors: string[] = [];
    assert.equal(
      await run(
        ['who', 'nonsense'],
        () => undefined,
        (s) => errors.push(s),
        {},
      ),
      2,
    );
    assert.match(errors.join(''), /"nonsense": expected/);
    assert.equal(
      await run(
        ['who', 'a/B/c', '--server', 'http://127.0.0.1:1'],
        () => undefined,
        (s) => errors.push(s),
        {},
      ),
      1,
    );
    assert.match(errors.join(''), /cannot reach the audit API at http:\/\/127.0.0.1:1/);
  });
});
