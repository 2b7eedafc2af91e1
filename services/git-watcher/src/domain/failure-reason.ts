import {
  GitCredentialsError,
  GitOperationError,
  SourceNotAllowedError,
  VerificationKeysError,
} from '@capstan/git';

/** kstatus reasons for a GitRepository that could not be polled. */
export type SourceFailureReason =
  | 'AuthenticationFailed'
  | 'SecretNotFound'
  | 'InvalidSecret'
  | 'RefNotFound'
  | 'URLNotAllowed'
  | 'GitOperationFailed';

/**
 * Why a poll failed, in the words a user acts on. Pure. git reports a 401/403 in several ways
 * depending on the transport and whether a prompt was possible; all mean "fix the credentials".
 */
export function failureReason(error: unknown): SourceFailureReason {
  if (error instanceof SourceNotAllowedError) return 'URLNotAllowed';
  if (error instanceof GitCredentialsError || error instanceof VerificationKeysError) return 'InvalidSecret';
  if (error instanceof Error && error.name === 'SecretNotFoundError') return 'SecretNotFound';
  if (error instanceof GitOperationError) {
    if (
      /Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]|Permission denied \(publickey|Host key verification failed/i.test(
        error.detail,
      )
    )
      return 'AuthenticationFailed';
    if (error.operation === 'resolve') return 'RefNotFound';
  }
  return 'GitOperationFailed';
}
