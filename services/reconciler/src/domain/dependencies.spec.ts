import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dependencyBlocker } from './dependencies.js';

const ready = [
  {
    type: 'Ready',
    status: 'True' as const,
    reason: 'ReconciliationSucceeded',
    message: '',
    lastTransitionTime: 't',
  },
];

describe('dependencyBlocker', () => {
  it('is ready only when Ready=True at its generation and applied at its latest revision', () => {
    const base = {
      ref: 'default/infra',
      found: true,
      generation: 2,
      observedGeneration: 2,
      conditions: ready,
    };
    assert.equal(
      dependencyBlocker({ ...base, lastAppliedRevision: 'main@sha1:a', sourceRevision: 'main@sha1:a' }),
      undefined,
    );
    assert.match(dependencyBlocker({ ...base, found: false }) ?? '', /not found/);
    assert.match(dependencyBlocker({ ...base, observedGeneration: 1 }) ?? '', /generation 2/);
    assert.match(dependencyBlocker({ ...base, conditions: [] }) ?? '', /not ready/);
    assert.match(
      dependencyBlocker({ ...base, lastAppliedRevision: 'main@sha1:a', sourceRevision: 'main@sha1:b' }) ?? '',
      /latest revision main@sha1:b/,
    );
  });
});
