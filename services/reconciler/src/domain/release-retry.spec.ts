import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { afterAttempt, deferral } from './release-retry.js';

const interval = 60_000;
const cause = { terminal: false, message: 'chart podinfo: connect ECONNREFUSED' };
const unreachable = { kind: 'failed' as const, failure: cause };

describe('release retries', () => {
  it('backs off per release, doubling up to the interval, and keeps the failure message while waiting', () => {
    const first = afterAttempt(undefined, 'spec-1', unreachable, 0, interval);
    assert.deepEqual(first, { specDigest: 'spec-1', failures: 1, failure: cause, nextAttemptAt: 5_000 });
    assert.equal(deferral(first, 'spec-1', 4_999), cause.message);
    assert.equal(deferral(first, 'spec-1', 5_000), undefined);
    const second = afterAttempt(first, 'spec-1', unreachable, 5_000, interval);
    assert.equal(second?.nextAttemptAt, 15_000);
    let state: ReturnType<typeof afterAttempt> = second;
    for (let t = 0; t < 10; t++) state = afterAttempt(state, 'spec-1', unreachable, 100_000, interval);
    assert.equal(state?.nextAttemptAt, 100_000 + interval);
  });

  it('waiting changes nothing; a new spec is attempted at once and counts from one', () => {
    const state = afterAttempt(undefined, 'spec-1', unreachable, 0, interval);
    assert.equal(afterAttempt(state, 'spec-1', { kind: 'deferred' }, 1_000, interval), state);
    assert.equal(deferral(state, 'spec-2', 1_000), undefined);
    assert.equal(afterAttempt(state, 'spec-2', unreachable, 1_000, interval)?.failures, 1);
  });

  it('clears on success, and on a failure only a new commit can fix', () => {
    const state = afterAttempt(undefined, 'spec-1', unreachable, 0, interval);
    assert.equal(afterAttempt(state, 'spec-1', { kind: 'deployed' }, 6_000, interval), undefined);
    assert.equal(
      afterAttempt(
        state,
        'spec-1',
        { kind: 'failed', failure: { terminal: true, message: 'no chart' } },
        6_000,
        interval,
      ),
      undefined,
    );
  });

  it('a rolled-back release is held until its spec changes, or retried up to maxRetries with backoff', () => {
    const failure = { terminal: true, message: 'upgrade failed; rolled back', rolledBackTo: 'main@sha1:1' };
    const rolledBack = { kind: 'rolled-back' as const, failure };
    const held = afterAttempt(undefined, 'spec-1', rolledBack, 0, interval);
    assert.equal(deferral(held, 'spec-1', 10 * interval), failure.message);
    assert.equal(deferral(held, 'spec-2', 0), undefined);
    let state = afterAttempt(undefined, 'spec-1', { ...rolledBack, retries: 2 }, 0, interval);
    assert.equal(state?.nextAttemptAt, 5_000);
    state = afterAttempt(state, 'spec-1', { ...rolledBack, retries: 2 }, 5_000, interval);
    assert.equal(state?.nextAttemptAt, 15_000);
    state = afterAttempt(state, 'spec-1', { ...rolledBack, retries: 2 }, 15_000, interval);
    assert.equal(state?.nextAttemptAt, Number.POSITIVE_INFINITY);
  });
});
