import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent } from '@capstan/events';
import { commitObservedEvent, refOf, revisionOf } from './commit-event.js';

describe('commitObservedEvent', () => {
  const sha = 'b'.repeat(40);
  const commit = {
    sha,
    parents: ['a'.repeat(40)],
    author: { name: 'Ada', email: 'ada@example.com', time: '2026-11-22T09:00:00.000Z' },
    committer: { name: 'CI', email: 'ci@example.com', time: '2026-11-22T09:01:00.000Z' },
    message: 'scale web',
  };
  const repo = { namespace: 'apps', name: 'site', url: 'file:///srv/site.git', ref: { branch: 'main' } };

  it('builds a valid, deterministic event with a Flux-style revision', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    const event = commitObservedEvent(repo, commit, now);
    assert.deepEqual(parseEvent(event), event);
    assert.equal(event.id, `commit:apps/site@${sha}`);
    assert.equal(event.data.revision, `main@sha1:${sha}`);
    assert.equal(event.data.ref, 'branch/main');
    // The id does not depend on when we looked, so a second replica's publish is a duplicate.
    assert.equal(commitObservedEvent(repo, commit, new Date()).id, event.id);
  });

  it('names the tag a semver range chose, and carries the verification', () => {
    const semverRepo = { ...repo, ref: { semver: '^1.0.0' } };
    const verification = {
      status: 'verified' as const,
      signer: 'Ada',
      keyId: 'ABC',
      format: 'openpgp' as const,
    };
    const event = commitObservedEvent(semverRepo, commit, new Date(), {
      resolvedName: 'v1.4.0',
      verification,
    });
    assert.deepEqual(parseEvent(event), event);
    assert.equal(event.data.revision, `v1.4.0@sha1:${sha}`);
    assert.equal(event.data.ref, 'semver/^1.0.0');
    assert.deepEqual(event.data.verification, verification);
    assert.equal(revisionOf({ commit: sha }, sha), `sha1:${sha}`);
  });

  it("follows the remote's default branch when the spec names no ref", () => {
    // No ref: the remote's default branch, named in the revision by the branch it resolved to.
    assert.deepEqual(refOf({}), {});
    assert.equal(revisionOf({}, sha, 'trunk'), `trunk@sha1:${sha}`);
    assert.deepEqual(refOf({ ref: { tag: 'v1' } }), { tag: 'v1' });
  });
});
