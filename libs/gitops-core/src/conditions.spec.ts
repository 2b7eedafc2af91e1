import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatRevision,
  readyConditions,
  reconcilingConditions,
  setCondition,
  shaOfRevision,
} from './index.js';

const t0 = new Date('2026-11-22T10:00:00Z');
const t1 = new Date('2026-11-22T11:00:00Z');

describe('conditions', () => {
  it('keeps lastTransitionTime while the status holds, moves it on a flip', () => {
    const a = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: 'fine' }, t0);
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'Ok', message: 'still fine' }, t1);
    assert.equal(b[0]?.lastTransitionTime, t0.toISOString());
    assert.equal(b[0].message, 'still fine');
    const c = setCondition(b, { type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'bad' }, t1);
    assert.equal(c[0]?.lastTransitionTime, t1.toISOString());
  });

  it('ends a reconcile with Ready set, Reconciling removed and Stalled only for terminal failures', () => {
    const progressing = reconcilingConditions([], 'applying', t0, 3);
    const failed = readyConditions(
      progressing,
      { ready: false, reason: 'BuildFailed', message: 'x.yaml', stalled: true, generation: 3 },
      t1,
    );
    assert.deepEqual(
      failed.map((c) => [c.type, c.status, c.observedGeneration]),
      [
        ['Ready', 'False', 3],
        ['Stalled', 'True', 3],
      ],
    );
    const ok = readyConditions(
      failed,
      { ready: true, reason: 'ReconciliationSucceeded', message: 'ok', stalled: false },
      t1,
    );
    assert.deepEqual(
      ok.map((c) => [c.type, c.status]),
      [['Ready', 'True']],
    );
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

import { backoffDelay, parseDuration } from './index.js';

describe('durations and backoff', () => {
  it('parses Go-style durations and rejects garbage naming it', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.throws(() => parseDuration('10 minutes'), /invalid duration "10 minutes"/);
  });
  it('doubles the retry delay up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10].map((n) => backoffDelay(n, 1_000, 5_000, 0.5)),
      [1_000, 2_000, 4_000, 5_000, 5_000],
    );
  });
});
