import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decisionEvent, deployment } from '../testing/decision-events.js';
import { digestOf, redactSecrets } from './redact.js';
import { toDecisionRecord } from './to-decision-record.js';

const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

void describe('redactSecrets', () => {
  void it("digests a Secret's data and stringData, keeping its keys and everything else", () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'shop' },
      type: 'Opaque',
      data: { username: 'YWRh', pass: 'aHVudGVyMg==' },
      stringData: { url: 'postgres://ada:hunter2@db' },
    };
    assert.deepEqual(redactSecrets({ applied: [secret] }), {
      applied: [
        {
          ...secret,
          data: { username: sha256('YWRh'), pass: sha256('aHVudGVyMg==') },
          stringData: { url: sha256('postgres://ada:hunter2@db') },
        },
      ],
    });
  });

  void it('digests entries marked sensitive, but keeps their name', () => {
    assert.deepEqual(
      redactSecrets({
        inputs: [
          { name: 'db-url', value: 'postgres://x', sensitive: true },
          { name: 'replicas', value: 3 },
        ],
      }),
      {
        inputs: [
          { name: 'db-url', value: sha256('postgres://x'), sensitive: true },
          { name: 'replicas', value: 3 },
        ],
      },
    );
  });

  void it('digests values under keys that name secrets, at any depth and of any type', () => {
    const out = redactSecrets({
      webhook: { url: 'https://hooks', apiToken: 't0k', headers: { 'X-Api-Key': 'k' } },
      password: 'hunter2',
      clientSecret: { nested: ['a', 1] },
      sshKey: null,
      diff: { changed: 1 },
    });
    assert.deepEqual(out, {
      webhook: { url: 'https://hooks', apiToken: sha256('t0k'), headers: { 'X-Api-Key': sha256('k') } },
      password: sha256('hunter2'),
      clientSecret: { nested: [sha256('a'), sha256('1')] },
      sshKey: null,
      diff: { changed: 1 },
    });
  });

  void it('is idempotent and leaves ordinary data and non-Secret kinds alone', () => {
    const once = redactSecrets({ password: 'x', cm: { kind: 'ConfigMap', data: { a: 'b' } } });
    assert.deepEqual(redactSecrets(once), once);
    assert.deepEqual((once as { cm: unknown }).cm, { kind: 'ConfigMap', data: { a: 'b' } });
    assert.equal(digestOf(sha256('x')), sha256('x'));
  });

  void it('is applied to evidence and change sets before a decision is recorded (and hashed)', () => {
    const record = toDecisionRecord(
      decisionEvent({
        id: 'e1',
        changeSet: [{ ...deployment('web'), action: 'configured' }],
        evidence: {
          rendered: [
            { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { a: 'plain' } },
          ],
          registryPassword: 'p@ss',
        },
      }),
      { id: '01936f00-0000-7000-8000-000000000001', recordedAt: new Date(0) },
    );
    const text = JSON.stringify(record);
    assert.doesNotMatch(text, /plain|p@ss/);
    assert.equal(record.evidence['registryPassword'], sha256('p@ss'));
    assert.deepEqual(record.changeSet, [{ ...deployment('web'), action: 'configured' }]);
  });
});
