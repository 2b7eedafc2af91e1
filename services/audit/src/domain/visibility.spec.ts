import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clusterRole, decisionEvent, deployment } from '../testing/decision-events.js';
import type { ChainedDecision } from './decision-record.js';
import { toDecisionRecord } from './to-decision-record.js';
import { namespacesOf, trimDecision } from './visibility.js';

const chained = (record: ReturnType<typeof toDecisionRecord>): ChainedDecision => ({
  ...record,
  seq: 7n,
  prevHash: '0'.repeat(64),
  hash: 'f'.repeat(64),
});

/** A prune across two teams' namespaces and a cluster-scoped object, decided in flux-system. */
const prune = chained({
  ...toDecisionRecord(
    decisionEvent({
      id: 'prune',
      action: 'pruned',
      changeSet: [
        { ...deployment('web', 'team-a'), action: 'deleted' },
        { ...deployment('web', 'team-b'), action: 'deleted' },
        { ...deployment('web-2', 'team-b'), action: 'deleted' },
        { ...clusterRole('viewer'), action: 'deleted' },
      ],
      evidence: {
        skipped: [{ ...deployment('db', 'team-b'), reason: 'annotated' }],
        note: 'team-b/Deployment/web-2 was stale',
      },
    }),
    { id: 'id-prune', recordedAt: new Date('2026-11-22T10:00:01Z') },
  ),
  message:
    'pruned 4 object(s): team-a/Deployment/web, team-b/Deployment/web, team-b/Deployment/web-2, ClusterRole/viewer',
});

void describe('trimDecision', () => {
  void it("keeps only the readable namespaces' objects: targets, change set, evidence lists, message", () => {
    const seen = trimDecision(prune, (ns) => ns === 'team-a');
    assert.deepEqual(
      seen.targets.map((t) => `${t.namespace}/${t.name}`),
      ['team-a/web'],
    );
    assert.deepEqual(seen.changeSet, [{ ...deployment('web', 'team-a'), action: 'deleted' }]);
    assert.deepEqual(seen.evidence, { skipped: [], note: '(hidden object) was stale' });
    assert.equal(
      seen.message,
      'pruned 4 object(s): team-a/Deployment/web, (hidden object), (hidden object), (hidden object)',
    );
    assert.equal(seen.hiddenObjects, 3);
    // Not about objects: stays as recorded.
    assert.deepEqual(seen.decidedBy, prune.decidedBy);
    assert.deepEqual(seen.source, prune.source);
    assert.equal(seen.hash, prune.hash);
  });

  void it('returns the decision untouched when every object is readable', () => {
    assert.equal(
      trimDecision(prune, () => true),
      prune,
    );
  });

  void it('names every namespace a decision mentions, the decider included', () => {
    assert.deepEqual([...namespacesOf(prune)].sort(), ['', 'flux-system', 'team-a', 'team-b']);
  });
});
