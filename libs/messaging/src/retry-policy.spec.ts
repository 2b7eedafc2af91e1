import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { onHandlerFailure } from './retry-policy.js';

describe('retry policy', () => {
  const policy = { maxDeliver: 4, backoffMs: [100, 500] };
  it('backs off with the listed delays, repeating the last one', () => {
    assert.deepEqual(onHandlerFailure(policy, 1), { kind: 'retry', delayMs: 100 });
    assert.deepEqual(onHandlerFailure(policy, 2), { kind: 'retry', delayMs: 500 });
    assert.deepEqual(onHandlerFailure(policy, 3), { kind: 'retry', delayMs: 500 });
  });
  it('dead-letters on the last delivery', () => {
    assert.deepEqual(onHandlerFailure(policy, 4), { kind: 'dead-letter' });
  });
});
