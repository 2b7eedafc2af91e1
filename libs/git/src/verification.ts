/** Which keys may sign commits, from the Secret named by `spec.verify.secretRef`. */
export interface VerificationKeys {
  /** ASCII-armored OpenPGP public keys (Secret keys ending in `.asc`). */
  openpgp: string[];
  /** An SSH allowed-signers file (Secret key `allowed_signers`), as `ssh-keygen -Y verify` reads it. */
  allowedSigners?: string;
}

export type SignatureFormat = 'openpgp' | 'ssh';

/** Same shape as CommitObservedV1Data.verification. */
export interface CommitVerification {
  status: 'verified' | 'unsigned' | 'invalid' | 'not-checked';
  signer?: string;
  keyId?: string;
  format?: SignatureFormat;
}

export class VerificationKeysError extends Error {
  constructor(
    readonly secret: string,
    readonly detail: string,
  ) {
    super(`secret ${secret}: ${detail}`);
    this.name = 'VerificationKeysError';
  }
}

/** Pure: picks the `*.asc` and `allowed_signers` entries out of a Secret's decoded data. */
export function keysFromSecret(secret: string, data: Record<string, string>): VerificationKeys {
  const openpgp = Object.keys(data)
    .filter((k) => k.endsWith('.asc'))
    .sort()
    .map((k) => data[k] ?? '');
  const allowedSigners = data['allowed_signers'];
  if (openpgp.length === 0 && !allowedSigners)
    throw new VerificationKeysError(secret, 'no public keys: expected *.asc entries or allowed_signers');
  return allowedSigners ? { openpgp, allowedSigners } : { openpgp };
}

/** The format of the `gpgsig` header of a raw commit object, or undefined when unsigned. Pure. */
export function signatureFormat(rawCommit: string): SignatureFormat | 'unknown' | undefined {
  const headers = rawCommit.split('\n\n')[0] ?? '';
  const sig = /^gpgsig (.*)$/m.exec(headers)?.[1];
  if (sig === undefined) return undefined;
  if (sig.includes('BEGIN SSH SIGNATURE')) return 'ssh';
  if (sig.includes('BEGIN PGP SIGNATURE')) return 'openpgp';
  return 'unknown';
}

/**
 * Reads gpg's machine-readable status lines (`git verify-commit --raw`). Pure. Only GOODSIG with
 * VALIDSIG counts: the keyring holds nothing but the Secret's keys, so a good signature is by one
 * of them; anything else (BADSIG, NO_PUBKEY, expired or revoked keys) is invalid.
 */
export function parseGpgStatus(output: string): CommitVerification {
  const good = /^\[GNUPG:\] GOODSIG ([0-9A-F]+) (.*)$/m.exec(output);
  const valid = /^\[GNUPG:\] VALIDSIG ([0-9A-F]+)/m.exec(output);
  if (good && valid)
    return { status: 'verified', format: 'openpgp', signer: good[2] ?? '', keyId: valid[1] ?? '' };
  const keyId = /^\[GNUPG:\] (?:BADSIG|ERRSIG|EXPKEYSIG|REVKEYSIG|NO_PUBKEY) ([0-9A-F]+)/m.exec(output)?.[1];
  return keyId ? { status: 'invalid', format: 'openpgp', keyId } : { status: 'invalid', format: 'openpgp' };
}

/**
 * Reads `ssh-keygen -Y verify` as git reports it. Pure. "Good ... signature for <principal>" means
 * the key is listed in allowed_signers for that principal; git also says "Good ... signature with"
 * (no principal) for a well-formed signature by an unlisted key, which must not count.
 */
export function parseSshVerify(output: string, exitOk: boolean): CommitVerification {
  const m = /Good "git" signature for (\S+) with \S+ key (\S+)/.exec(output);
  if (exitOk && m) return { status: 'verified', format: 'ssh', signer: m[1] ?? '', keyId: m[2] ?? '' };
  const keyId = /key (SHA256:\S+)/.exec(output)?.[1];
  return keyId ? { status: 'invalid', format: 'ssh', keyId } : { status: 'invalid', format: 'ssh' };
}
