import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GitCredentialsError, GitOperationError } from '@capstan/git';
import { SecretNotFoundError } from '@capstan/kube';
import { failureReason } from './failure-reason.js';

describe('failureReason', () => {
  it('tells credentials problems apart from other git failures', () => {
    const op = (operation: string, detail: string) =>
      new GitOperationError(operation, 'https://x/r.git', detail);
    assert.equal(
      failureReason(op('clone', "fatal: could not read Username for 'http://x': terminal prompts disabled")),
      'AuthenticationFailed',
    );
    assert.equal(
      failureReason(op('fetch', "fatal: Authentication failed for 'http://x/'")),
      'AuthenticationFailed',
    );
    assert.equal(failureReason(op('resolve', 'no tag satisfies semver range "^9"')), 'RefNotFound');
    assert.equal(
      failureReason(op('fetch', 'fatal: unable to access: Could not resolve host')),
      'GitOperationFailed',
    );
    assert.equal(failureReason(new SecretNotFoundError('apps', 'git-auth')), 'SecretNotFound');
    assert.equal(failureReason(new GitCredentialsError('git-auth', 'no keys')), 'InvalidSecret');
    assert.equal(failureReason(new Error('boom')), 'GitOperationFailed');
  });
});
