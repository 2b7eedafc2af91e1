import { z } from 'zod';
import { GitSignature, Timestamp } from './common.js';
import { cloudEvent } from './envelope.js';

export const COMMIT_OBSERVED_V1 = 'dev.capstan.git.commit.observed.v1';

/**
 * Result of checking the commit's signature (GitRepository `spec.verify`). Optional so events
 * from watchers that predate verification stay valid; absent means the same as `not-checked`.
 */
export const CommitVerification = z.object({
  status: z.enum(['verified', 'unsigned', 'invalid', 'not-checked']),
  /** OpenPGP user id or SSH principal of the key that made a good signature. */
  signer: z.string().optional(),
  /** OpenPGP fingerprint or SSH key fingerprint (`SHA256:...`). */
  keyId: z.string().optional(),
  format: z.enum(['openpgp', 'ssh']).optional(),
});
export type CommitVerification = z.infer<typeof CommitVerification>;

export const CommitObservedV1Data = z.object({
  repository: z.object({ namespace: z.string(), name: z.string(), url: z.string() }),
  /** The ref the GitRepository follows, as the user wrote it (`branch/main`, `tag/v1.2.0`, `commit/<sha>`). */
  ref: z.string(),
  /** Flux-compatible revision string: `main@sha1:<sha>`. */
  revision: z.string(),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  parents: z.array(z.string()),
  author: GitSignature,
  committer: GitSignature,
  message: z.string(),
  observedAt: Timestamp,
  verification: CommitVerification.optional(),
});
export type CommitObservedV1Data = z.infer<typeof CommitObservedV1Data>;
export const CommitObservedV1 = cloudEvent(COMMIT_OBSERVED_V1, CommitObservedV1Data);
export type CommitObservedV1 = z.infer<typeof CommitObservedV1>;
