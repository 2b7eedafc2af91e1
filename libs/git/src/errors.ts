/** A Git operation failed (unreachable remote, unknown ref...): transient, retried with backoff. */
export class GitOperationError extends Error {
  constructor(
    readonly operation: string,
    readonly url: string,
    readonly detail: string,
  ) {
    super(`git ${operation} ${redact(url)}: ${detail}`);
    this.name = 'GitOperationError';
  }
}

/** The content at a commit cannot be built (a path or symlink escapes the repository): terminal. */
export class GitContentError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'GitContentError';
  }
}

/** Credentials in URLs never reach logs, statuses or decisions. */
export function redact(url: string): string {
  return url.replace(/\/\/[^/@]+@/, '//***@');
}
