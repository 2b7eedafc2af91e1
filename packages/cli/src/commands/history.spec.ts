import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../main.js';
import { historyQuery, renderHistory, renderReleaseHistory } from './history.js';

const now = new Date('2026-11-22T12:00:00Z');

void describe('capstan history', () => {
  void it('turns flags into the API query, durations into timestamps', () => {
    assert.deepEqual(
      historyQuery(
        { server: '', output: 'table', namespace: 'shop', actor: 'ada@example.com', since: '2h', limit: 20 },
        now,
      ),
      { limit: '20', namespace: 'shop', actor: 'ada@example.com', since: '2026-11-22T10:00:00.000Z' },
    );
    assert.equal(
      historyQuery({ server: '', output: 'table', since: '2026-11-01T00:00:00Z', limit: 5 }, now)['since'],
      '2026-11-01T00:00:00Z',
    );
    assert.throws(
      () => historyQuery({ server: '', output: 'table', since: 'yesterday', limit: 5 }, now),
      /--since "yesterday"/,
    );
  });

  void it('renders decisions as a readable table', () => {
    const text = renderHistory([
      {
        seq: 3,
        time: '2026-11-22T10:00:00.123Z',
        action: 'applied',
        outcome: 'succeeded',
        reason: 'ReconciliationSucceeded',
        message: 'applied',
        actor: { kind: 'person', name: 'Ada Lovelace', email: 'ada@example.com' },
        source: {
          revision: `main@sha1:${'b'.repeat(40)}`,
          sha: 'b'.repeat(40),
          commitMessage: 'scale web\n\nbody',
        },
        decidedBy: { kind: 'Sync', namespace: 'flux-system', name: 'shop' },
        targets: [
          { namespace: 'shop', kind: 'Deployment', name: 'web', action: 'configured' },
          { namespace: 'shop', kind: 'Service', name: 'web', action: 'unchanged' },
        ],
        correlationId: 'c1',
      },
    ]);
    const [header, row] = text.split('\n');
    assert.match(header ?? '', /^TIME\s+ACTION\s+OUTCOME\s+OBJECTS\s+REVISION\s+ACTOR\s+BY\s+MESSAGE$/);
    assert.match(
      row ?? '',
      /^2026-11-22T10:00:00Z\s+applied\s+succeeded\s+shop\/Deployment\/web \(\+1\)\s+main@sha1:bbbbbbbbbbbb\s+Ada Lovelace <ada@example.com>\s+Sync\/flux-system\/shop\s+scale web$/,
    );
    assert.equal(renderHistory([]), 'No decisions match.');
  });

  void it('exits 2 on bad flags and 1 when the API cannot be reached', async () => {
    const errors: string[] = [];
    const err = (s: string) => errors.push(s);
    assert.equal(await run(['history', '--since', 'soon'], () => undefined, err, {}), 2);
    assert.equal(await run(['history', '--server', 'http://127.0.0.1:1'], () => undefined, err, {}), 1);
    assert.match(errors.join('\n'), /--since "soon"/);
    assert.match(errors.join('\n'), /cannot reach the audit API/);
  });

  void it('shows a HelmRelease revision by revision with its chart version, values digest and actor', () => {
    const decision = (revision: string, version: string, digest: string, name = 'podinfo') => ({
      seq: 1,
      time: '2026-11-22T10:00:00.000Z',
      action: 'applied',
      outcome: 'succeeded',
      reason: 'ReconciliationSucceeded',
      message: 'applied',
      actor: { kind: 'person', name: 'Ada Lovelace', email: 'ada@example.com' },
      source: {
        revision: `main@sha1:${revision.repeat(40)}`,
        sha: revision.repeat(40),
        commitMessage: 'bump podinfo',
      },
      decidedBy: { kind: 'Sync', namespace: 'default', name: 'apps' },
      targets: [{ namespace: 'apps', kind: 'HelmRelease', name, action: null }],
      correlationId: null,
      evidence: {
        releases: [
          { namespace: 'apps', name, chart: 'podinfo', version, valuesDigest: `sha256:${digest.repeat(64)}` },
        ],
      },
    });
    const text = renderReleaseHistory(
      [decision('b', '6.5.1', 'e'), decision('a', '6.5.0', 'd')],
      'apps',
      'podinfo',
    );
    const [header, newest, oldest] = text.split('\n');
    assert.match(header ?? '', /^TIME\s+ACTION\s+REVISION\s+CHART\s+VALUES\s+ACTOR/);
    assert.match(
      newest ?? '',
      /main@sha1:bbbbbbbbbbbb\s+podinfo-6\.5\.1\s+sha256:eeeeeeeeeeee\s+Ada Lovelace <ada@example\.com>/,
    );
    assert.match(oldest ?? '', /podinfo-6\.5\.0\s+sha256:dddddddddddd/);
    assert.equal(renderReleaseHistory([], 'apps', 'podinfo'), 'No decisions recorded for this release.');
  });
});
