import { withoutCredentials } from '@capstan/gitops-core';

/** A Git operation failed (unreachable remote, unknown ref...): transient, retried with backoff. */
export class GitOperationError extends Error {
  constructor(
    readonly operation: string,
    readonly url: string,
    readonly detail: string,
  ) {
    // git's stderr may quote the URL, credentials included.
    super(withoutCredentials(`git ${operation} ${url}: ${detail}`));
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
