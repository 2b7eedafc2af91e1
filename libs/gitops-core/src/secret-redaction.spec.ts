import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareOwned } from './drift.js';
import {
  REDACTED,
  isSensitiveField,
  redactPair,
  redactSecrets,
  secretValuesOf,
  sensitivePaths,
} from './secret-redaction.js';
import type { KubeObject } from './objects.js';

const PLANTED = 'planted-7f3a9c';
const b64 = (s: string) => Buffer.from(s).toString('base64');

const secret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'db',
    namespace: 'shop',
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"data":"${b64(PLANTED)}"}` },
  },
  type: 'Opaque',
  data: { password: b64(PLANTED), user: b64('ada') },
  stringData: { url: `postgres://ada:${PLANTED}@db` },
};

const marked: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cfg', annotations: { 'capstan.dev/sensitive': 'data.DATABASE_URL, data.nested' } },
  data: { DATABASE_URL: `postgres://x:${PLANTED}@db`, LOG_LEVEL: 'debug' },
};

void describe('redactSecrets', () => {
  void it("masks a Secret's data, stringData and last-applied copy, keeping its keys and everything else", () => {
    const out = redactSecrets({ objects: [secret] });
    assert.deepEqual(out.objects[0], {
      ...secret,
      metadata: {
        ...secret.metadata,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': REDACTED },
      },
      data: { password: REDACTED, user: REDACTED },
      stringData: { url: REDACTED },
    });
    assert.doesNotMatch(JSON.stringify(out), new RegExp(PLANTED));
    assert.equal(
      secret.data && (secret['data'] as Record<string, string>)['user'],
      b64('ada'),
      'input untouched',
    );
  });

  void it('masks the fields capstan.dev/sensitive names, and every field with "true"', () => {
    const out = redactSecrets(marked);
    assert.deepEqual(out['data'], { DATABASE_URL: REDACTED, LOG_LEVEL: 'debug' });
    const whole: KubeObject = redactSecrets({
      ...marked,
      metadata: { name: 'cfg', annotations: { 'capstan.dev/sensitive': 'true' } },
    });
    assert.deepEqual(whole['data'], { DATABASE_URL: REDACTED, LOG_LEVEL: REDACTED });
    assert.equal(whole.metadata.name, 'cfg');
  });

  void it('masks entries marked sensitive and keys naming secrets in evidence, not inside objects', () => {
    const out = redactSecrets({
      inputs: [
        { name: 'db-url', value: 'postgres://x', sensitive: true },
        { name: 'replicas', value: 3 },
      ],
      webhook: { url: 'https://hooks', apiToken: 't0k', headers: { 'X-Api-Key': 'k' } },
      password: 'hunter2',
      sshKey: null,
      deployment: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { tolerations: [{ key: 'gpu' }] },
      },
    });
    assert.deepEqual(out.inputs, [
      { name: 'db-url', value: REDACTED, sensitive: true },
      { name: 'replicas', value: 3 },
    ]);
    assert.deepEqual(out.webhook, {
      url: 'https://hooks',
      apiToken: REDACTED,
      headers: { 'X-Api-Key': REDACTED },
    });
    assert.equal(out.password, REDACTED);
    assert.equal(out.sshKey, null);
    assert.deepEqual(out.deployment.spec.tolerations, [{ key: 'gpu' }], "a toleration's key is no secret");
  });

  void it('scrubs known values (plain and base64) and URL credentials from any string', () => {
    const known = secretValuesOf([secret, marked]);
    assert.ok(known.includes(PLANTED) && known.includes(b64(PLANTED)));
    assert.ok(!known.includes('ada'), 'values shorter than four characters are not searched for');
    const message = `Secret "db" is invalid: data[x]: Invalid value: "${PLANTED}"; fetch https://u:pw@git.example/x failed`;
    const out = redactSecrets({ message, when: new Date(0) }, known);
    assert.equal(
      out.message,
      `Secret "db" is invalid: data[x]: Invalid value: "${REDACTED}"; fetch https://***@git.example/x failed`,
    );
    assert.ok(out.when instanceof Date, 'non-JSON values are left alone');
  });

  void it('is idempotent', () => {
    const once = redactSecrets({ password: 'x', objects: [secret, marked] });
    assert.deepEqual(redactSecrets(once), once);
  });
});

void describe('sensitive fields', () => {
  void it('names the paths by kind and annotation', () => {
    assert.deepEqual(sensitivePaths({ kind: 'ConfigMap', metadata: { name: 'x' }, data: {} }), []);
    assert.ok(isSensitiveField(secret, 'data.password'));
    assert.ok(isSensitiveField(secret, 'stringData["a.b"]'));
    assert.ok(
      isSensitiveField(secret, 'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]'),
    );
    assert.ok(!isSensitiveField(secret, 'type'));
    assert.ok(!isSensitiveField(secret, 'database'));
    assert.ok(isSensitiveField(marked, 'data.DATABASE_URL'));
    assert.ok(!isSensitiveField(marked, 'data.LOG_LEVEL'));
  });

  void it('masks drift of a Secret changed by hand: which key, never the values', () => {
    const live = {
      ...secret,
      data: { password: b64('changed-by-hand'), user: b64('ada') },
      metadata: {
        ...secret.metadata,
        managedFields: [
          {
            manager: 'capstan',
            operation: 'Apply',
            time: '2026-01-01T00:00:00Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:data': { 'f:user': {} } },
          },
          {
            manager: 'kubectl-edit',
            operation: 'Update',
            time: '2026-01-01T00:01:00Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:data': { 'f:password': {} } },
          },
        ],
      },
    };
    const drifts = compareOwned(secret, live, { manager: 'capstan' });
    assert.deepEqual(
      drifts.map(({ liveDigest: _, ...rest }) => rest),
      [
        {
          path: 'data.password',
          desired: REDACTED,
          live: REDACTED,
          manager: 'kubectl-edit',
          sensitive: true,
        },
      ],
    );
    // A second change by hand is told apart from the first without keeping the value.
    const again = compareOwned(
      secret,
      { ...live, data: { password: b64('changed-again'), user: b64('ada') } },
      {
        manager: 'capstan',
      },
    );
    assert.notEqual(again[0]?.liveDigest, drifts[0]?.liveDigest);
    assert.doesNotMatch(JSON.stringify(drifts), /changed-by-hand|Y2hhbmdlZC1ieS1oYW5k/);
  });

  void it('marks which masked keys differ in a diff pair', () => {
    const after = { ...secret, data: { password: b64('new-value-1'), user: b64('ada') } };
    const pair = redactPair(secret, after);
    assert.deepEqual(pair.after?.['data'], { password: `${REDACTED} (after)`, user: REDACTED });
    assert.deepEqual(pair.before?.['data'], { password: `${REDACTED} (before)`, user: REDACTED });
    assert.doesNotMatch(JSON.stringify(pair), /new-value-1|planted/);
  });
});
