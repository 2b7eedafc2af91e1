import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkFreshness, deliveryKey, splitTargets } from './replay.js';
import { checkSignature, hmacSignature, timestamped } from './signature.js';

describe('webhook replay refusal', () => {
  it('keys a delivery by receiver and body, whatever its unsigned headers', () => {
    const body = Buffer.from('{"after":"abc"}');
    assert.equal(deliveryKey('team-a', 'hook', body), deliveryKey('team-a', 'hook', Buffer.from(body)));
    assert.notEqual(deliveryKey('team-a', 'hook', body), deliveryKey('team-b', 'hook', body));
    assert.notEqual(deliveryKey('team-a', 'hook', body), deliveryKey('team-a', 'hook', Buffer.from('{}')));
    assert.match(deliveryKey('a', 'b', body), /^[0-9a-f]{64}$/);
  });

  it('holds a signed timestamp to the window, either way, and lets unsigned-time deliveries through', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    assert.deepEqual(checkFreshness(undefined, now, 300_000), { fresh: true });
    assert.deepEqual(checkFreshness(now - 299_000, now, 300_000), { fresh: true });
    assert.deepEqual(checkFreshness(now - 3_600_000, now, 300_000), {
      fresh: false,
      reason: 'X-Capstan-Timestamp is 3600s old, outside the 300s window',
    });
    assert.deepEqual(checkFreshness(now + 600_000, now, 300_000), {
      fresh: false,
      reason: 'X-Capstan-Timestamp is -600s in the future, outside the 300s window',
    });
  });

  it('signs <timestamp>.<body> when a generic sender sends X-Capstan-Timestamp', () => {
    const body = Buffer.from('payload');
    const token = 'k';
    const stamp = '1796385600';
    const signature = hmacSignature(timestamped(stamp, body), token);
    assert.deepEqual(
      checkSignature('generic', { 'x-capstan-timestamp': stamp, 'x-signature': signature }, body, token),
      { ok: true, signedAt: 1796385600_000 },
    );
    // The timestamp is covered: moving it forward breaks the signature.
    assert.equal(
      checkSignature(
        'generic',
        { 'x-capstan-timestamp': '1796385900', 'x-signature': signature },
        body,
        token,
      ).ok,
      false,
    );
    assert.deepEqual(
      checkSignature('generic', { 'x-capstan-timestamp': 'soon', 'x-signature': signature }, body, token),
      {
        ok: false,
        reason: 'X-Capstan-Timestamp must be unix seconds',
      },
    );
  });

  it('triggers only targets in the receiver namespace unless cross-namespace references are allowed', () => {
    const resources = [
      { name: 'own' },
      { name: 'same', namespace: 'team-a' },
      { name: 'theirs', namespace: 'team-b' },
    ];
    assert.deepEqual(splitTargets('team-a', resources, false), {
      allowed: [
        { namespace: 'team-a', name: 'own' },
        { namespace: 'team-a', name: 'same' },
      ],
      refused: ['team-b/theirs'],
    });
    assert.equal(splitTargets('team-a', resources, true).refused.length, 0);
  });
});
