import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelay } from './retry-delay.js';

describe('retryDelay', () => {
  it('doubles from 5 s and stops growing at the Sync interval', () => {
    const interval = 60_000;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 40].map((n) => retryDelay(n, interval)),
      [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000],
    );
  });
  it('never waits longer than a short interval', () => {
    assert.equal(retryDelay(1, 2_000), 2_000);
  });
});
