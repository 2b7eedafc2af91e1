import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeSetEntry } from '@capstan/events';
import {
  MAX_QUARANTINE_MS,
  creditInterrupted,
  judgeAttempt,
  withPlan,
  type AttemptRecord,
} from './attempts.js';

const now = new Date('2026-12-04T10:00:00Z');
const next = { owner: 'reconciler-0', revision: 'main@sha1:bbb', sha: 'bbb' };
const entry = (name: string, action: ChangeSetEntry['action']): ChangeSetEntry => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: 'shop',
  name,
  action,
});
const leftover = (over: Partial<AttemptRecord> = {}): AttemptRecord => ({
  ...next,
  startedAt: '2026-12-04T09:59:00Z',
  crashes: 0,
  planned: [],
  ...over,
});

void describe('judgeAttempt', () => {
  void it('runs when the last attempt finished, and keeps a record for this one', () => {
    const v = judgeAttempt(undefined, next, now, 30_000);
    assert.deepEqual(v, {
      kind: 'run',
      record: { ...next, startedAt: now.toISOString(), crashes: 0, planned: [] },
    });
  });

  void it('quarantines a Sync whose last attempt on this instance never finished, longer each crash', () => {
    const first = judgeAttempt(leftover(), next, now, 30_000);
    assert.equal(first.kind, 'quarantined');
    assert.equal(first.until.toISOString(), '2026-12-04T10:00:30.000Z');
    assert.match(first.message, /reconciler stopped during the last attempt at main@sha1:bbb.*once/);
    const third = judgeAttempt(leftover({ crashes: 2 }), next, now, 30_000);
    assert.equal(third.kind === 'quarantined' && third.until.getTime() - now.getTime(), 120_000);
    assert.equal(third.record.crashes, 3);
    const many = judgeAttempt(leftover({ crashes: 40 }), next, now, 30_000);
    assert.equal(many.kind === 'quarantined' && many.until.getTime() - now.getTime(), MAX_QUARANTINE_MS);
  });

  void it('holds it until the quarantine ends, then runs it, keeping the crash count', () => {
    const held = leftover({ crashes: 1, quarantinedUntil: '2026-12-04T10:00:30Z' });
    assert.equal(judgeAttempt(held, next, now, 30_000).kind, 'quarantined');
    const later = judgeAttempt(held, next, new Date('2026-12-04T10:00:31Z'), 30_000);
    assert.equal(later.kind, 'run');
    assert.equal(later.record.crashes, 1);
    assert.equal(later.record.quarantinedUntil, undefined);
  });

  void it("leaves another replica's attempt alone: it may still be running", () => {
    const v = judgeAttempt(leftover({ owner: 'reconciler-1' }), next, now, 30_000);
    assert.equal(v.kind, 'run');
  });

  void it('carries what an interrupted attempt of the same commit planned, not of another', () => {
    const planned = [entry('created-before-kill', 'created')];
    const served = { crashes: 1, quarantinedUntil: '2026-12-04T09:59:30Z', planned };
    assert.deepEqual(judgeAttempt(leftover(served), next, now, 1).record.planned, planned);
    assert.deepEqual(judgeAttempt(leftover({ ...served, sha: 'aaa' }), next, now, 1).record.planned, []);
  });
});

void describe('crediting an interrupted apply', () => {
  void it('names the objects the interrupted attempt wrote, which the re-run found unchanged', () => {
    const record = withPlan(leftover(), [
      entry('a', 'created'),
      entry('b', 'configured'),
      entry('c', 'unchanged'),
    ]);
    assert.deepEqual(
      record.planned.map((c) => c.name),
      ['a', 'b'],
    );
    assert.deepEqual(withPlan(record, [entry('a', 'created')]).planned.length, 2, 'no duplicates');
    const credited = creditInterrupted(
      [entry('a', 'unchanged'), entry('b', 'configured'), entry('c', 'unchanged'), entry('d', 'created')],
      record,
    );
    assert.deepEqual(
      credited.map((c) => `${c.name}:${c.action}`),
      ['a:created', 'b:configured', 'c:unchanged', 'd:created'],
    );
    assert.deepEqual(creditInterrupted([entry('a', 'unchanged')], undefined), [entry('a', 'unchanged')]);
  });
});
