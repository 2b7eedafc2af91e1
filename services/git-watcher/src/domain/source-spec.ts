import type { GitRepository } from '@capstan/kube';

/** `spec.verify`, which libs/kube's GitRepository type does not carry yet. */
export interface VerifySpec {
  mode: 'HEAD';
  secretRef: { name: string };
}

export function verifyOf(repo: GitRepository): VerifySpec | undefined {
  return (repo.spec as GitRepository['spec'] & { verify?: VerifySpec }).verify;
}

/** The message of a SourceVerified condition for a checked commit. Pure. */
export function verificationMessage(
  v: { status: string; signer?: string; keyId?: string; format?: string },
  sha: string,
): string {
  const commit = `commit ${sha.slice(0, 12)}`;
  switch (v.status) {
    case 'verified':
      return `${commit} signed by ${v.signer ?? 'unknown'} (${v.format ?? '?'} key ${v.keyId ?? '?'})`;
    case 'unsigned':
      return `${commit} is not signed`;
    case 'invalid':
      return `${commit} signature is not by a key in the verification secret${v.keyId ? ` (key ${v.keyId})` : ''}`;
    default:
      return `${commit} not checked`;
  }
}
