import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergePatchChanges } from './merge-patch.js';

describe('mergePatchChanges', () => {
  const status = {
    observedGeneration: 2,
    lastAppliedRevision: 'main@sha1:abc',
    conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded' }],
    inventory: { entries: [{ id: 'ns_a__ConfigMap', v: 'v1' }] },
  };

  it('nothing to change: the same fields, or fewer (a merge patch leaves the rest alone)', () => {
    assert.equal(mergePatchChanges(status, structuredClone(status)), false);
    assert.equal(mergePatchChanges(status, { observedGeneration: 2, conditions: status.conditions }), false);
    assert.equal(mergePatchChanges(status, { gone: null }), false);
  });

  it('a changed scalar, a changed or reordered array, a new key, a removed key', () => {
    assert.equal(mergePatchChanges(status, { observedGeneration: 3 }), true);
    assert.equal(
      mergePatchChanges(status, { conditions: [{ ...status.conditions[0], status: 'False' }] }),
      true,
    );
    assert.equal(mergePatchChanges({ a: [1, 2] }, { a: [2, 1] }), true);
    assert.equal(mergePatchChanges(status, { lastHandledReconcileAt: 'now' }), true);
    assert.equal(mergePatchChanges(status, { lastAppliedRevision: null }), true);
    assert.equal(mergePatchChanges(undefined, { observedGeneration: 2 }), true);
  });

  it('objects merge key by key: an unchanged key inside an object changes nothing', () => {
    assert.equal(
      mergePatchChanges({ inventory: { entries: [], extra: 1 } }, { inventory: { entries: [] } }),
      false,
    );
    assert.equal(mergePatchChanges({ inventory: { entries: [] } }, { inventory: { entries: [{}] } }), true);
  });
});
