import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  GitCredentialsError,
  VerificationKeysError,
  buildIgnore,
  credentialEnv,
  credentialsFromSecret,
  keysFromSecret,
  parseBatch,
  parseGpgStatus,
  parseSshVerify,
  pickSemverTag,
  signatureFormat,
  sshCommand,
} from './index.js';

describe('pickSemverTag', () => {
  const tags = ['v1.0.0', 'v1.2.0', '1.10.0', 'v2.0.0', 'v1.11.0-rc.1', 'latest'];
  it('picks the highest tag in the range, v-prefixed or not', () => {
    assert.equal(pickSemverTag(tags, '^1.0.0'), '1.10.0');
    assert.equal(pickSemverTag(tags, '1.x'), '1.10.0');
    assert.equal(pickSemverTag(tags, '>=2'), 'v2.0.0');
    assert.equal(pickSemverTag(tags, '>=1.11.0-rc.0 <2'), 'v1.11.0-rc.1');
    assert.equal(pickSemverTag(tags, '>=3'), undefined);
  });
  it('rejects an invalid range by name', () => {
    assert.throws(() => pickSemverTag(tags, 'not a range!'), /invalid semver range "not a range!"/);
  });
});

describe('buildIgnore', () => {
  it('combines .capstanignore with spec.ignore, the spec winning', () => {
    const ignored = buildIgnore('!keep.tmpl.yaml\nlocal/\n', '*.tmpl.yaml\n# comment\nsecrets/\n');
    assert.equal(ignored('deploy/a.tmpl.yaml'), true);
    assert.equal(ignored('deploy/keep.tmpl.yaml'), false);
    assert.equal(ignored('deploy/secrets/s.yaml'), true);
    assert.equal(ignored('local/x.yaml'), true);
    assert.equal(ignored('deploy/app.yaml'), false);
    assert.equal(ignored('./local/x.yaml'), true);
  });
  it('ignores nothing without rules', () => {
    assert.equal(buildIgnore(undefined, undefined)('a/b.yaml'), false);
  });
});

describe('credentialsFromSecret', () => {
  it('reads basic, bearer and SSH credentials', () => {
    assert.deepEqual(credentialsFromSecret('s', { username: 'u', password: 'p' }), {
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
    assert.deepEqual(credentialsFromSecret('s', { bearerToken: 't\n' }), { kind: 'bearer', token: 't' });
    assert.deepEqual(credentialsFromSecret('s', { identity: 'KEY', known_hosts: 'h k' }), {
      kind: 'ssh',
      identity: 'KEY\n',
      knownHosts: 'h k\n',
    });
  });
  it('names the Secret and what is missing', () => {
    assert.throws(
      () => credentialsFromSecret('git-auth', { user: 'x' }),
      (e: unknown) => {
        return (
          e instanceof GitCredentialsError && /secret git-auth: expected .* found keys: user/.test(e.message)
        );
      },
    );
    assert.throws(() => credentialsFromSecret('k', { identity: 'KEY' }), /needs known_hosts/);
  });
  it('puts HTTP credentials in a header through the environment', async () => {
    const { env } = await credentialEnv({ kind: 'basic', username: 'u', password: 'p' });
    assert.deepEqual(env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('u:p').toString('base64')}`,
    });
  });
  it('builds a strict ssh command', () => {
    assert.equal(
      sshCommand('/tmp/a b/id', '/tmp/kh'),
      "ssh -i '/tmp/a b/id' -o UserKnownHostsFile='/tmp/kh' -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes -F /dev/null",
    );
  });
});

describe('verification parsing', () => {
  it('reads keys from a Secret', () => {
    assert.deepEqual(keysFromSecret('k', { 'b.asc': 'B', 'a.asc': 'A', other: 'x' }), {
      openpgp: ['A', 'B'],
    });
    assert.throws(() => keysFromSecret('k', { other: 'x' }), VerificationKeysError);
  });
  it('detects the signature format', () => {
    assert.equal(signatureFormat('tree t\nauthor a\n\nmsg\n'), undefined);
    assert.equal(signatureFormat('tree t\ngpgsig -----BEGIN SSH SIGNATURE-----\n x\n\nmsg'), 'ssh');
    assert.equal(signatureFormat('tree t\ngpgsig -----BEGIN PGP SIGNATURE-----\n x\n\nmsg'), 'openpgp');
    // A message that merely mentions gpgsig is not a signature.
    assert.equal(signatureFormat('tree t\n\ngpgsig -----BEGIN PGP SIGNATURE-----'), undefined);
  });
  it('needs GOODSIG and VALIDSIG for OpenPGP', () => {
    const good = '[GNUPG:] GOODSIG ABCD Ada <a@x>\n[GNUPG:] VALIDSIG FFFF 2026\n';
    assert.deepEqual(parseGpgStatus(good), {
      status: 'verified',
      format: 'openpgp',
      signer: 'Ada <a@x>',
      keyId: 'FFFF',
    });
    assert.deepEqual(parseGpgStatus('[GNUPG:] ERRSIG ABCD 22 10 00 1 9\n[GNUPG:] NO_PUBKEY ABCD\n'), {
      status: 'invalid',
      format: 'openpgp',
      keyId: 'ABCD',
    });
    assert.deepEqual(parseGpgStatus('[GNUPG:] BADSIG ABCD Ada\n'), {
      status: 'invalid',
      format: 'openpgp',
      keyId: 'ABCD',
    });
  });
  it('needs a principal for SSH', () => {
    const good = 'Good "git" signature for ada@x with ED25519 key SHA256:abc';
    assert.deepEqual(parseSshVerify(good, true), {
      status: 'verified',
      format: 'ssh',
      signer: 'ada@x',
      keyId: 'SHA256:abc',
    });
    assert.equal(parseSshVerify(good, false).status, 'invalid');
    assert.deepEqual(
      parseSshVerify('Good "git" signature with ED25519 key SHA256:abc\nNo principal matched.', true),
      {
        status: 'invalid',
        format: 'ssh',
        keyId: 'SHA256:abc',
      },
    );
  });
});

describe('parseBatch', () => {
  it('splits `git cat-file --batch` output into bytes, other object types and missing specs', () => {
    const bytes = Buffer.from([0x00, 0xff, 0x0a, 0xfe]);
    const out = Buffer.concat([
      Buffer.from(`${'a'.repeat(40)} blob 4\n`),
      bytes,
      Buffer.from(`\nHEAD:nope missing\n${'b'.repeat(40)} tree 2\nxx\n`),
    ]);
    const [blob, missing, tree] = parseBatch(out, 3);
    assert.ok(blob?.kind === 'blob' && blob.content.equals(bytes));
    assert.deepEqual(missing, { kind: 'missing' });
    assert.deepEqual(tree, { kind: 'other', type: 'tree' });
    assert.throws(() => parseBatch(Buffer.from(''), 1), /truncated/);
  });
});
