import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { checkSignature, hmacSignature } from './signature.js';

describe('checkSignature', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const token = 'shared-secret';
  const sig = `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;

  it('accepts a GitHub delivery signed with the token', () => {
    assert.deepEqual(checkSignature('github', { 'x-hub-signature-256': sig }, body, token), { ok: true });
    assert.equal(hmacSignature(body, token), sig);
  });

  it('rejects a missing, malformed, wrong or body-mismatched GitHub signature', () => {
    assert.deepEqual(checkSignature('github', {}, body, token), {
      ok: false,
      reason: 'missing X-Hub-Signature-256 header',
    });
    assert.equal(checkSignature('github', { 'x-hub-signature-256': 'sha1=abc' }, body, token).ok, false);
    assert.equal(
      checkSignature('github', { 'x-hub-signature-256': hmacSignature(body, 'other') }, body, token).ok,
      false,
    );
    assert.equal(
      checkSignature('github', { 'x-hub-signature-256': sig }, Buffer.from('{}'), token).ok,
      false,
    );
  });

  it('compares the GitLab token', () => {
    assert.deepEqual(checkSignature('gitlab', { 'x-gitlab-token': token }, body, token), { ok: true });
    assert.equal(checkSignature('gitlab', { 'x-gitlab-token': 'shared-secre' }, body, token).ok, false);
    assert.equal(checkSignature('gitlab', {}, body, token).ok, false);
  });

  it('checks the generic X-Signature HMAC', () => {
    assert.deepEqual(
      checkSignature(
        'generic',
        { 'x-signature': sig.toUpperCase().replace('SHA256', 'sha256') },
        body,
        token,
      ),
      {
        ok: true,
      },
    );
    assert.equal(checkSignature('generic', { 'x-hub-signature-256': sig }, body, token).ok, false);
  });
});
