import type { CommitVerification } from '@capstan/events';

export type VerificationGate =
  { ok: true; signer?: string } | { ok: false; reason: 'CommitNotVerified'; message: string };

/**
 * Whether a Sync may apply a commit, given what the git-watcher found about its signature. Pure.
 * A Sync that does not require verification takes any commit, but still credits a verified
 * signer; one that does takes only `verified` (a missing verification means the GitRepository
 * has no `spec.verify`, which cannot satisfy the requirement either).
 */
export function verificationGate(
  syncSpec: { verification?: { required?: boolean } },
  commitVerification: CommitVerification | undefined,
): VerificationGate {
  const verified = commitVerification?.status === 'verified';
  const signer = verified ? commitVerification.signer : undefined;
  if (verified || !syncSpec.verification?.required)
    return signer === undefined ? { ok: true } : { ok: true, signer };
  return { ok: false, reason: 'CommitNotVerified', message: notVerifiedMessage(commitVerification) };
}

function notVerifiedMessage(v: CommitVerification | undefined): string {
  const status = v?.status ?? 'not-checked';
  switch (status) {
    case 'unsigned':
      return 'the commit is not signed and this Sync requires verified commits';
    case 'invalid':
      return `the commit signature is not by a trusted key${v?.keyId ? ` (key ${v.keyId})` : ''} and this Sync requires verified commits`;
    case 'not-checked':
      return 'the commit signature was not checked (set spec.verify on the GitRepository) and this Sync requires verified commits';
    case 'verified':
      return 'verified';
  }
}
