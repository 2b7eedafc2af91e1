import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatRevision, readyConditions, reconcilingConditions, setCondition, shaOfRevision } from './index.js';

const t0 = new Date('2026-11-22T10:00:00Z');
const t1 = new Date('2026-11-22T11:00:00Z');

describe('conditions', () => {
  it('keeps lastTransitionTime while the status holds, moves it on a flip', () => {
    const a = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: 'fine' }, t0);
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'Ok', message: 'still fine' }, t1);
    assert.equal(b[0]?.lastTransitionTime, t0.toISOString());
    assert.equal(b[0]?.message, 'still fine');
    const c = setCondition(b, { type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'bad' }, t1);
    assert.equal(c[0]?.lastTransitionTime, t1.toISOString());
  });

  it('ends a reconcile with Ready set, Reconciling removed and Stalled only for terminal failures', () => {
    const progressing = reconcilingConditions([], 'applying', t0, 3);
    const failed = readyConditions(progressing, { ready: false, reason: 'BuildFailed', message: 'x.yaml', stalled: true, generation: 3 }, t1);
    assert.deepEqual(failed.map((c) => [c.type, c.status, c.observedGeneration]), [['Ready', 'False', 3], ['Stalled', 'True', 3]]);
    const ok = readyConditions(failed, { ready: true, reason: 'ReconciliationSucceeded', message: 'ok', stalled: false }, t1);
    assert.deepEqual(ok.map((c) => [c.type, c.status]), [['Ready', 'True']]);
  });
});

describe('revisions', () => {
  it('formats and parses Flux-style revision strings', () => {
    const sha = 'c'.repeat(40);
    assert.equal(formatRevision({ branch: 'main' }, sha), `main@sha1:${sha}`);
    assert.equal(formatRevision({ commit: sha }, sha), `sha1:${sha}`);
    assert.equal(shaOfRevision(`v1.0.0@sha1:${sha}`), sha);
  });
});
