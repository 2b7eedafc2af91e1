import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED } from '@capstan/gitops-core';
import { decisionEvent, deployment } from '../testing/decision-events.js';
import { toDecisionRecord } from './to-decision-record.js';

void describe('a decision record', () => {
  void it('masks secret values in evidence and change sets, and URL credentials, before it is hashed', () => {
    const event = decisionEvent({
      id: 'e1',
      changeSet: [{ ...deployment('web'), action: 'configured' }],
      evidence: {
        rendered: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { a: 'plain' } }],
        registryPassword: 'p@ss',
      },
    });
    event.data.message = 'fetched https://ada:hunter2@git.example/app.git';
    const record = toDecisionRecord(event, {
      id: '01936f00-0000-7000-8000-000000000001',
      recordedAt: new Date(0),
    });
    const text = JSON.stringify(record);
    assert.doesNotMatch(text, /plain|p@ss|hunter2/);
    assert.equal(record.evidence['registryPassword'], REDACTED);
    assert.equal(record.message, 'fetched https://***@git.example/app.git');
    assert.deepEqual(record.changeSet, [{ ...deployment('web'), action: 'configured' }]);
  });
});
