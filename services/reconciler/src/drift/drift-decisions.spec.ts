import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeployDecisionRecordedV1, DriftDetectedV1 } from '@capstan/events';
import {
  actorOfManager,
  driftCorrectedDecision,
  driftDetectedDecision,
  driftDetectedEvent,
  type DriftFinding,
} from './drift-decisions.js';
import { asApplied } from './as-applied.js';
import { ownerLabels } from '../domain/ownership.js';

const finding: DriftFinding = {
  sync: { namespace: 'default', name: 'shop', uid: 'uid-1' },
  object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'web' },
  change: 'modified',
  fields: [{ path: 'spec.replicas', desired: 3, live: 5, manager: 'kubectl' }],
  resourceVersion: '1234',
  policy: 'correct',
  cluster: 'prod-eu',
  detectedAt: new Date('2026-01-02T03:04:05.000Z'),
};

void describe('drift decisions', () => {
  void it('credits the field manager: people by name, controllers as bots', () => {
    assert.deepEqual(actorOfManager('kubectl'), {
      kind: 'person',
      name: 'kubectl',
      evidence: 'authenticated-user',
    });
    assert.deepEqual(actorOfManager('kubectl-edit').kind, 'person');
    assert.deepEqual(actorOfManager('kube-controller-manager').kind, 'bot');
    assert.deepEqual(actorOfManager('argocd-controller').kind, 'bot');
    assert.deepEqual(actorOfManager('helm').kind, 'bot');
    assert.equal(actorOfManager(null).name, 'unknown');
  });

  void it('makes a valid event and decisions sharing one correlation id, with values before and after', () => {
    const event = DriftDetectedV1.parse(driftDetectedEvent(finding));
    assert.deepEqual(event.data.fields, ['spec.replicas']);
    assert.equal(event.data.manager, 'kubectl');
    const detected = DeployDecisionRecordedV1.parse(driftDetectedDecision(finding));
    const corrected = DeployDecisionRecordedV1.parse(
      driftCorrectedDecision(finding, new Date('2026-01-02T03:04:05.100Z')),
    );
    assert.equal(detected.data.action, 'drift.detected');
    assert.equal(detected.data.actor.name, 'kubectl');
    assert.deepEqual(detected.data.evidence['fields'], [
      { path: 'spec.replicas', before: 3, after: 5, manager: 'kubectl' },
    ]);
    assert.match(detected.data.message, /kubectl changed spec\.replicas \(3 -> 5\) of prod\/Deployment\/web/);
    assert.equal(corrected.data.action, 'drift.corrected');
    assert.equal(corrected.data.actor.kind, 'capstan');
    assert.deepEqual(
      corrected.data.changeSet.map((c) => c.action),
      ['configured'],
    );
    assert.equal(detected.correlationid, corrected.correlationid);
    assert.equal(event.correlationid, detected.correlationid);
  });

  void it('gives the same drift the same ids on every replica, and a new resourceVersion new ones', () => {
    assert.equal(driftDetectedDecision(finding).id, driftDetectedDecision({ ...finding }).id);
    assert.equal(driftDetectedEvent(finding).id, driftDetectedEvent({ ...finding }).id);
    assert.notEqual(
      driftDetectedDecision(finding).id,
      driftDetectedDecision({ ...finding, resourceVersion: '1235' }).id,
    );
    assert.notEqual(
      driftDetectedDecision(finding).id,
      driftCorrectedDecision(finding, finding.detectedAt).id,
    );
  });
});

void describe('asApplied', () => {
  void it('adds the ownership labels and the namespace the applier resolved', () => {
    const objects = [
      {
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { x: 'y' } } },
        origin: { file: 'a.yaml', document: 0 },
      },
      {
        object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod', namespace: 'oops' } },
        origin: { file: 'n.yaml', document: 0 },
      },
      {
        object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } },
        origin: { file: 's.yaml', document: 0 },
      },
    ];
    const applied = asApplied(
      objects,
      [
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'apps', name: 'a', action: 'created' },
        { apiVersion: 'v1', kind: 'Namespace', namespace: '', name: 'prod', action: 'unchanged' },
      ],
      ownerLabels({ namespace: 'default', name: 'shop' }),
    );
    assert.deepEqual(
      applied.map((o) => o.metadata),
      [
        {
          name: 'a',
          namespace: 'apps',
          labels: { x: 'y', 'capstan.dev/sync-name': 'shop', 'capstan.dev/sync-namespace': 'default' },
        },
        {
          name: 'prod',
          labels: { 'capstan.dev/sync-name': 'shop', 'capstan.dev/sync-namespace': 'default' },
        },
      ],
    );
    assert.deepEqual(objects[0]?.object.metadata.labels, { x: 'y' }, 'the input is not changed');
  });
});
