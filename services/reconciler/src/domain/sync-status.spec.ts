import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '@capstan/gitops-core';
import { inventoryAfter, repeatsFailure, syncStatus, type SyncView } from './sync-status.js';
import type { ReconcileOutcome } from './outcome.js';

const now = new Date('2026-12-01T10:00:00Z');
const revision = `main@sha1:${'a'.repeat(40)}`;
const ns = { apiVersion: 'v1', kind: 'Namespace', namespace: '', name: 'shop' };
const cm = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'settings' };
const ready = (status: Condition['status'], reason: string, message: string): Condition => ({
  type: 'Ready',
  status,
  reason,
  message,
  lastTransitionTime: '2026-12-01T09:00:00.000Z',
  observedGeneration: 3,
});
const sync = (status?: SyncView['status']): SyncView => ({
  metadata: { generation: 3, annotations: { 'capstan.dev/reconcile-requested-at': 'r1' } },
  ...(status ? { status } : {}),
});
const failed: ReconcileOutcome = {
  kind: 'failed',
  reason: 'ApplyFailed',
  message: 'shop/ConfigMap/settings: denied',
  failures: [{ message: 'denied' }],
};

describe('syncStatus', () => {
  it('a success: Ready=True at the generation, applied revision, inventory without skipped objects', () => {
    const status = syncStatus(
      sync(),
      {
        kind: 'finished',
        revision,
        outcome: {
          kind: 'applied',
          changeSet: [
            { ...ns, action: 'created' },
            { ...cm, action: 'skipped' },
          ],
        },
      },
      now,
    );
    assert.equal(status.lastAppliedRevision, revision);
    assert.equal(status.lastAttemptedRevision, revision);
    assert.equal(status.observedGeneration, 3);
    assert.equal(status.lastHandledReconcileAt, 'r1');
    assert.deepEqual(
      status.inventory?.entries.map((e) => e.id),
      ['_shop__Namespace'],
    );
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [['Ready', 'True', 'ReconciliationSucceeded']],
    );
  });

  it('a bad commit stalls, keeps the inventory and the last applied revision', () => {
    const status = syncStatus(sync(), { kind: 'finished', revision, outcome: failed }, now);
    assert.equal(status.lastAppliedRevision, undefined);
    assert.equal(status.inventory, undefined);
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'False', 'ApplyFailed'],
        ['Stalled', 'True', 'ApplyFailed'],
      ],
    );
  });

  it('waiting for health says so with Reconciling=True; a blocked Sync is neither reconciling nor stalled', () => {
    const waiting = syncStatus(sync(), { kind: 'progressing', revision, message: 'waiting for web' }, now);
    assert.deepEqual(
      waiting.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'False', 'Progressing'],
        ['Reconciling', 'True', 'Progressing'],
      ],
    );
    const blocked = syncStatus(
      sync({ conditions: waiting.conditions ?? [] }),
      { kind: 'blocked', message: "dependency 'ops/infra' is not ready" },
      now,
    );
    assert.deepEqual(
      blocked.conditions?.map((c) => [c.type, c.reason]),
      [['Ready', 'DependencyNotReady']],
    );
  });
});

describe('inventoryAfter', () => {
  it('keeps what a failed staged apply wrote, so a revert prunes it', () => {
    const previous = [{ id: 'shop_old__ConfigMap', v: 'v1' }];
    const entries = inventoryAfter(previous, { ...failed, written: [{ ...ns, action: 'created' }] });
    assert.deepEqual(
      entries?.map((e) => e.id),
      ['shop_old__ConfigMap', '_shop__Namespace'],
    );
  });
});

describe('repeatsFailure', () => {
  it('is true only for the same failure of the same revision and generation', () => {
    const same = sync({
      lastAttemptedRevision: revision,
      observedGeneration: 3,
      conditions: [ready('False', 'ApplyFailed', failed.message)],
    });
    assert.equal(repeatsFailure(same, revision, failed), true);
    assert.equal(repeatsFailure(same, `main@sha1:${'b'.repeat(40)}`, failed), false);
    assert.equal(repeatsFailure(same, revision, { ...failed, message: 'another' }), false);
    assert.equal(repeatsFailure({ ...same, metadata: { generation: 4 } }, revision, failed), false);
    assert.equal(repeatsFailure(same, revision, { kind: 'applied', changeSet: [] }), false);
  });
});
