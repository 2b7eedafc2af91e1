import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { overviewRow, sortRows } from './overview.js';
import { cookieValue, SessionCodec, sessionCookie } from './session-codec.js';
import { sameOrigin } from './session.middleware.js';

const NOW = new Date('2026-12-04T10:00:00Z');
const codec = new SessionCodec('a-console-session-secret-of-32-chars!!');

void describe('console session', () => {
  const session = { sid: 'sid-1', token: 'eyJhbGciOi.token', expiresAt: NOW.getTime() + 60_000 };

  void it('seals the token so the cookie neither shows nor lets anyone change it', () => {
    const sealed = codec.seal(session);
    assert.ok(!sealed.includes('token') && !sealed.includes('eyJ'));
    assert.deepEqual(codec.open(sealed, NOW), session);
    const [v, iv, tag, body] = sealed.split('.');
    const flipped = `${v}.${iv}.${tag}.${body!.slice(0, -2)}${body!.endsWith('A') ? 'B' : 'A'}${body!.slice(-1)}`;
    assert.equal(codec.open(flipped, NOW), null, 'a changed byte is refused');
    assert.equal(
      new SessionCodec('another-secret-another-secret-1234').open(sealed, NOW),
      null,
      'another key',
    );
    assert.equal(codec.open('v1.garbage', NOW), null);
  });

  void it('expires', () => {
    const sealed = codec.seal(session);
    assert.equal(codec.open(sealed, new Date(session.expiresAt)), null);
  });

  void it('CSRF tokens belong to one session', () => {
    const csrf = codec.csrfToken('sid-1');
    assert.equal(codec.checkCsrf('sid-1', csrf), true);
    assert.equal(codec.checkCsrf('sid-2', csrf), false);
    assert.equal(codec.checkCsrf('sid-1', undefined), false);
    assert.equal(codec.checkCsrf('sid-1', `${csrf}x`), false);
  });

  void it('the cookie is HttpOnly and SameSite=Strict always, Secure over TLS', () => {
    assert.equal(
      sessionCookie('capstan_session', 'v', { secure: true, maxAgeSeconds: 60 }),
      'capstan_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure',
    );
    assert.equal(
      sessionCookie('capstan_session', 'v', { secure: false, maxAgeSeconds: 60 }),
      'capstan_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60',
    );
    assert.equal(cookieValue('a=1; capstan_session=v1.x.y.z; b=2', 'capstan_session'), 'v1.x.y.z');
    assert.equal(cookieValue(undefined, 'capstan_session'), undefined);
  });

  void it('same origin: no Origin (not a browser) or the same host', () => {
    assert.equal(sameOrigin({ headers: { host: 'capstan.example.com' } }), true);
    assert.equal(
      sameOrigin({ headers: { host: 'capstan.example.com', origin: 'https://capstan.example.com' } }),
      true,
    );
    assert.equal(
      sameOrigin({ headers: { host: 'capstan.example.com', origin: 'https://evil.example' } }),
      false,
    );
    assert.equal(sameOrigin({ headers: { host: 'capstan.example.com', origin: 'null' } }), false);
  });
});

void describe('overview rows', () => {
  void it('reads Ready, its reason and the revision of each kind', () => {
    const sync = overviewRow('Sync', {
      metadata: { name: 'web', namespace: 'shop', generation: 2 },
      status: {
        observedGeneration: 2,
        lastAppliedRevision: 'main@sha1:abc',
        conditions: [{ type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'app.yaml: bad' }],
      },
    });
    assert.deepEqual(sync, {
      kind: 'Sync',
      apiGroup: 'capstan.dev',
      namespace: 'shop',
      name: 'web',
      ready: 'False',
      reason: 'BuildFailed',
      message: 'app.yaml: bad',
      since: null,
      revision: 'main@sha1:abc',
      suspended: false,
      stale: false,
      weight: null,
    });
    assert.equal(
      overviewRow('Canary', { status: { canaryWeight: 30, phase: 'Progressing' } }, 'flagger.app').weight,
      30,
    );
    assert.equal(
      overviewRow('GitRepository', { status: { artifact: { revision: 'main@sha1:def' } } }).revision,
      'main@sha1:def',
    );
    assert.equal(overviewRow('ImagePolicy', { status: { latestRef: { tag: '1.2.3' } } }).revision, '1.2.3');
    const fresh = overviewRow('Sync', {
      metadata: { name: 'x', namespace: 'y', generation: 3 },
      spec: { suspend: true },
      status: { observedGeneration: 2 },
    });
    assert.equal(fresh.ready, 'Unknown');
    assert.equal(fresh.stale, true);
    assert.equal(fresh.suspended, true);
  });

  void it('sorts not Ready first, then kind, namespace, name', () => {
    const row = (kind: string, namespace: string, name: string, ready: 'True' | 'False' | 'Unknown') => ({
      ...overviewRow(kind, { metadata: { name, namespace } }),
      ready,
    });
    const sorted = sortRows([
      row('GitRepository', 'a', 'r', 'True'),
      row('Sync', 'b', 's', 'True'),
      row('Sync', 'a', 's', 'Unknown'),
      row('HelmRelease', 'a', 'h', 'False'),
    ]);
    assert.deepEqual(
      sorted.map((r) => `${r.kind}/${r.namespace}/${r.name}`),
      ['HelmRelease/a/h', 'Sync/a/s', 'Sync/b/s', 'GitRepository/a/r'],
    );
  });
});
