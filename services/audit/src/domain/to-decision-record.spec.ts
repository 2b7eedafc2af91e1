import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clusterRole, decisionEvent, deployment, sha } from '../testing/decision-events.js';
import { toDecisionRecord } from './to-decision-record.js';

const context = {
  id: '01936f00-0000-7000-8000-000000000001',
  recordedAt: new Date('2026-11-22T10:00:05.123Z'),
};

void describe('toDecisionRecord', () => {
  void it('keeps who, which commit and why', () => {
    const r = toDecisionRecord(decisionEvent({ id: 'e1', commit: 7, message: 'bump web to 1.2' }), context);
    assert.equal(r.id, context.id);
    assert.equal(r.eventId, 'e1');
    assert.equal(r.eventSource, '/capstan/reconciler');
    assert.deepEqual(r.actor, {
      kind: 'person',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      evidence: 'commit-author',
    });
    assert.equal(r.source!.sha, sha(7));
    assert.equal(r.source!.revision, `main@sha1:${sha(7)}`);
    assert.equal(r.source!.commitMessage, 'bump web to 1.2');
    assert.deepEqual(r.source!.committer, { name: 'Grace Hopper', email: 'Grace@Example.com' });
    assert.equal(r.correlationId, 'corr-e1');
    assert.equal(r.traceparent, null);
    assert.deepEqual(r.time, new Date('2026-11-22T10:00:00Z'));
    assert.deepEqual(r.recordedAt, context.recordedAt);
  });

  void it('merges targets and change set per object, each with its own action', () => {
    const r = toDecisionRecord(
      decisionEvent({
        id: 'e2',
        targets: [deployment('web'), deployment('db'), clusterRole('reader')],
        changeSet: [
          { ...deployment('web'), action: 'configured' },
          { ...deployment('cache'), action: 'created' },
        ],
      }),
      context,
    );
    const byName = Object.fromEntries(r.targets.map((t) => [t.name, t]));
    assert.equal(r.targets.length, 4);
    assert.equal(byName['web']?.action, 'configured');
    assert.equal(byName['db']?.action, null);
    assert.equal(byName['cache']?.action, 'created');
    assert.equal(byName['reader']?.namespace, '');
  });

  void it('uses null, not undefined, for what a decision lacks', () => {
    const r = toDecisionRecord(
      decisionEvent({ id: 'e3', withoutSource: true, author: { name: 'bot', email: '' } }),
      context,
    );
    assert.equal(r.source, null);
    assert.equal(r.image, null);
    assert.ok(
      !JSON.stringify(r, (_k, v: unknown) => (v === undefined ? '<undefined>' : v)).includes('<undefined>'),
    );
  });
});
