import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verificationGate } from './verification.js';

describe('verificationGate', () => {
  const verified = {
    status: 'verified' as const,
    signer: 'Ada <ada@example.com>',
    keyId: 'ABC',
    format: 'openpgp' as const,
  };
  const required = { verification: { required: true } };

  it('passes a verified commit and names its signer', () => {
    assert.deepEqual(verificationGate(required, verified), { ok: true, signer: 'Ada <ada@example.com>' });
    assert.deepEqual(verificationGate({}, verified), { ok: true, signer: 'Ada <ada@example.com>' });
  });

  it('passes anything when verification is not required', () => {
    assert.deepEqual(verificationGate({}, undefined), { ok: true });
    assert.deepEqual(verificationGate({ verification: { required: false } }, { status: 'unsigned' }), {
      ok: true,
    });
  });

  it('refuses unsigned, invalid and unchecked commits when required, saying why', () => {
    for (const [v, words] of [
      [{ status: 'unsigned' as const }, /not signed/],
      [{ status: 'invalid' as const, keyId: 'DEAD' }, /not by a trusted key \(key DEAD\)/],
      [{ status: 'not-checked' as const }, /set spec.verify/],
      [undefined, /set spec.verify/],
    ] as const) {
      const gate = verificationGate(required, v);
      assert.ok(!gate.ok);
      assert.equal(gate.reason, 'CommitNotVerified');
      assert.match(gate.message, words);
    }
  });
});
