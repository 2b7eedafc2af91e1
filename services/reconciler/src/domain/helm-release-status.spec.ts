import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { helmReleaseStatus } from './helm-release-status.js';

const now = new Date('2026-12-04T20:00:00Z');
const release = {
  apiVersion: 'helm.fluxcd.io/v1',
  namespace: 'apps',
  name: 'podinfo',
  file: 'releases/podinfo.yaml',
  document: 0,
};
const revision = `main@sha1:${'a'.repeat(40)}`;

describe('helmReleaseStatus', () => {
  it('a rendered and applied release is Deployed, Ready, at its chart version and generation', () => {
    const s = helmReleaseStatus(
      {
        release: { ...release, chart: { name: 'podinfo', version: '6.5.0' }, valuesDigest: 'sha256:x' },
        releaseName: 'apps-podinfo',
        revision,
        live: { generation: 3 },
      },
      now,
    );
    assert.equal(s.phase, 'Deployed');
    assert.equal(s.releaseStatus, 'deployed');
    assert.equal(s.revision, '6.5.0');
    assert.equal(s.observedGeneration, 3);
    assert.deepEqual(
      s.conditions.map((c) => [c.type, c.status]),
      [
        ['Released', 'True'],
        ['Ready', 'True'],
      ],
    );
  });

  it('an unreachable chart repository is ChartFetchFailed and not stalled; a bad chart is DeployFailed and stalled', () => {
    const fetch = helmReleaseStatus(
      {
        release: { ...release, failure: { message: 'ECONNREFUSED', terminal: false } },
        releaseName: 'p',
        revision,
      },
      now,
    );
    assert.equal(fetch.phase, 'ChartFetchFailed');
    assert.equal(fetch.releaseStatus, 'failed');
    assert.ok(!fetch.conditions.some((c) => c.type === 'Stalled'));
    const bad = helmReleaseStatus(
      {
        release: { ...release, failure: { message: 'required', terminal: true } },
        releaseName: 'p',
        revision,
      },
      now,
    );
    assert.equal(bad.phase, 'DeployFailed');
    assert.equal(bad.conditions.find((c) => c.type === 'Stalled')?.status, 'True');
  });

  it('shows its own retry schedule while it waits out a retryable failure', () => {
    const s = helmReleaseStatus(
      {
        release: { ...release, failure: { message: 'chart podinfo: ECONNREFUSED', terminal: false } },
        releaseName: 'apps-podinfo',
        revision,
        retry: {
          specDigest: 'sha256:s',
          failures: 3,
          failure: { message: 'x', terminal: false },
          nextAttemptAt: now.getTime() + 20_000,
        },
      },
      now,
    );
    assert.equal(s.phase, 'ChartFetchFailed');
    assert.equal(s.retries, 3);
    assert.equal(s.nextRetryAt, '2026-12-04T20:00:20.000Z');
  });
});
